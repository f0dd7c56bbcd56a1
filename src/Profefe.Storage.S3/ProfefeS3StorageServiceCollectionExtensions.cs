using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Core.Storage;
using Profefe.Storage.S3;

namespace Microsoft.Extensions.DependencyInjection;

public static class ProfefeS3StorageServiceCollectionExtensions
{
    /// <summary>
    /// S3 alone, in profefe's own object layout (section "Storage:S3"; leave Prefix empty to share a bucket with
    /// profefe): one <see cref="ProfefeS3ProfileStorage"/> as the writer, reader, retention and statistics of the
    /// storage seam, and the readiness check.
    /// </summary>
    public static IServiceCollection AddProfefeS3Storage(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<S3StorageOptions>()
            .BindConfiguration(S3StorageOptions.SectionName)
            .Configure<IConfiguration>(static (options, configuration) => options.DeriveReadinessTimeout(configuration[S3StorageOptions.HealthTimeoutKey]))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<S3StorageOptions>, S3StorageOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static provider => new ProfefeS3ProfileStorage(
            provider.GetRequiredService<IOptions<S3StorageOptions>>().Value,
            provider.GetService<ILogger<ProfefeS3ProfileStorage>>(),
            provider.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IProfileWriter>(static provider => provider.GetRequiredService<ProfefeS3ProfileStorage>());
        services.TryAddSingleton<IProfileReader>(static provider => provider.GetRequiredService<ProfefeS3ProfileStorage>());
        services.TryAddSingleton<IProfileRetention>(static provider => provider.GetRequiredService<ProfefeS3ProfileStorage>());
        services.TryAddSingleton<IProfileStorageStatistics>(static provider => provider.GetRequiredService<ProfefeS3ProfileStorage>());
        return services;
    }
}
