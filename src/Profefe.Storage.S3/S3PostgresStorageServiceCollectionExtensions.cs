using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Profefe.Core.Storage;
using Profefe.Storage.Postgres;
using Profefe.Storage.S3;

namespace Microsoft.Extensions.DependencyInjection;

public static class S3PostgresStorageServiceCollectionExtensions
{
    /// <summary>
    /// "S3 + PostgreSQL" for any number of stateless collectors: profile bytes in object storage (section
    /// "Storage:S3"), the index in PostgreSQL (section "Storage:Postgres"), as the writer, reader, retention and
    /// statistics of the storage seam (one <see cref="S3PostgresProfileStorage"/>).
    /// </summary>
    public static IServiceCollection AddProfefeS3PostgresStorage(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<S3StorageOptions>()
            .BindConfiguration(S3StorageOptions.SectionName)
            .Configure<IConfiguration>(static (options, configuration) => options.DeriveReadinessTimeout(configuration[S3StorageOptions.HealthTimeoutKey]))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<S3StorageOptions>, S3StorageOptionsValidator>());
        services.AddOptions<PostgresStorageOptions>()
            .BindConfiguration(PostgresStorageOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgresStorageOptions>, PostgresStorageOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static provider => new S3PostgresProfileStorage(
            provider.GetRequiredService<IOptions<PostgresStorageOptions>>().Value,
            provider.GetRequiredService<IOptions<S3StorageOptions>>().Value,
            provider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance,
            provider.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IProfileWriter>(static provider => provider.GetRequiredService<S3PostgresProfileStorage>());
        services.TryAddSingleton<IProfileReader>(static provider => provider.GetRequiredService<S3PostgresProfileStorage>());
        services.TryAddSingleton<IProfileRetention>(static provider => provider.GetRequiredService<S3PostgresProfileStorage>());
        services.TryAddSingleton<IProfileStorageStatistics>(static provider => provider.GetRequiredService<S3PostgresProfileStorage>());
        return services;
    }
}
