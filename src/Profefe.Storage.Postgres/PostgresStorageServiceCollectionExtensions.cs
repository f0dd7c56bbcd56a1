using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Core.Storage;
using Profefe.Storage.Postgres;

namespace Microsoft.Extensions.DependencyInjection;

public static class PostgresStorageServiceCollectionExtensions
{
    /// <summary>
    /// PostgreSQL alone (section "Storage:Postgres"): index and profile bytes in one database, shared by any
    /// number of collectors, as the writer, reader, retention and statistics of the storage seam.
    /// </summary>
    public static IServiceCollection AddProfefePostgresStorage(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<PostgresStorageOptions>()
            .BindConfiguration(PostgresStorageOptions.SectionName)
            .Validate(static options => options.Validate() is null, "Storage:Postgres: invalid options (ConnectionString must be set, timeouts at least 1 s, counts at least 1)")
            .Validate(static options => PostgresSchema.IsValidSchemaName(options.Schema), "Storage:Postgres:Schema must be a plain identifier (letters, digits, _)")
            .ValidateOnStart();
        services.TryAddSingleton(static provider => new PostgresProfileStorage(
            provider.GetRequiredService<IOptions<PostgresStorageOptions>>().Value,
            provider.GetService<ILogger<PostgresProfileStorage>>()));
        services.TryAddSingleton<IProfileWriter>(static provider => provider.GetRequiredService<PostgresProfileStorage>());
        services.TryAddSingleton<IProfileReader>(static provider => provider.GetRequiredService<PostgresProfileStorage>());
        services.TryAddSingleton<IProfileRetention>(static provider => provider.GetRequiredService<PostgresProfileStorage>());
        services.TryAddSingleton<IProfileStorageStatistics>(static provider => provider.GetRequiredService<PostgresProfileStorage>());
        return services;
    }
}
