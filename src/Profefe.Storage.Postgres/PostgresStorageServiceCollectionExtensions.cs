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
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgresStorageOptions>, PostgresStorageOptionsValidator>());
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
