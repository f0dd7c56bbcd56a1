using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Core.Storage;
using Profefe.Core.Storage.Segments;
using Profefe.Storage.S3;

namespace Microsoft.Extensions.DependencyInjection;

public static class S3StorageServiceCollectionExtensions
{
    /// <summary>
    /// S3 alone, in profefe's own object layout (section "Storage:S3"; leave Prefix empty to share a bucket with
    /// profefe): one <see cref="ProfefeS3ProfileStorage"/> as the writer, reader, retention and statistics of the
    /// storage seam, and the readiness check.
    /// </summary>
    public static IServiceCollection AddProfefeS3Storage(this IServiceCollection services)
    {
        AddS3Options(services);
        services.TryAddSingleton(static provider => new ProfefeS3ProfileStorage(
            provider.GetRequiredService<IOptions<S3StorageOptions>>().Value,
            provider.GetService<ILogger<ProfefeS3ProfileStorage>>(),
            provider.GetRequiredService<TimeProvider>()));
        return services.AddProfileStorageSeam<ProfefeS3ProfileStorage>();
    }

    /// <summary>
    /// Profile bytes in object storage (section "Storage:S3"): one <see cref="S3ProfileBlobStore"/> as the
    /// <see cref="IProfileBlobStore"/> keyed <paramref name="serviceKey"/>, for an index store to keep its bytes in.
    /// </summary>
    public static IServiceCollection AddProfefeS3BlobStore(this IServiceCollection services, object serviceKey)
    {
        AddS3Options(services);
        services.TryAddSingleton(static provider => new S3ProfileBlobStore(
            provider.GetRequiredService<IOptions<S3StorageOptions>>().Value,
            provider.GetService<ILogger<S3ProfileBlobStore>>(),
            provider.GetRequiredService<TimeProvider>()));
        services.TryAddKeyedSingleton<IProfileBlobStore>(serviceKey, static (provider, _) => provider.GetRequiredService<S3ProfileBlobStore>());
        return services;
    }

    /// <summary>
    /// The profile engine's blocks in the same bucket (section "Storage:S3"), as the <see cref="Profefe.Core.Engine.IEngineBlockObjects"/>
    /// keyed <paramref name="serviceKey"/>, for a shared engine store to keep its blocks in.
    /// </summary>
    public static IServiceCollection AddProfefeS3EngineBlockObjects(this IServiceCollection services, object serviceKey)
    {
        AddS3Options(services);
        services.TryAddKeyedSingleton<Profefe.Core.Engine.IEngineBlockObjects>(serviceKey, static (provider, _) => new S3EngineBlockObjects(
            provider.GetRequiredService<IOptions<S3StorageOptions>>().Value,
            provider.GetService<ILogger<S3EngineBlockObjects>>()));
        return services;
    }

    /// <summary>
    /// Segment objects in object storage (section "Storage:S3"): one <see cref="S3SegmentObjectStore"/> as the
    /// <see cref="ISegmentObjectStore"/> keyed <paramref name="serviceKey"/>, for a batching index store.
    /// </summary>
    public static IServiceCollection AddProfefeS3SegmentStore(this IServiceCollection services, object serviceKey)
    {
        AddS3Options(services);
        services.TryAddSingleton(static provider => new S3SegmentObjectStore(
            provider.GetRequiredService<IOptions<S3StorageOptions>>().Value,
            provider.GetService<ILogger<S3SegmentObjectStore>>()));
        services.TryAddKeyedSingleton<ISegmentObjectStore>(serviceKey, static (provider, _) => provider.GetRequiredService<S3SegmentObjectStore>());
        return services;
    }

    private static void AddS3Options(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<S3StorageOptions>()
            .BindConfiguration(S3StorageOptions.SectionName)
            .Configure<IConfiguration>(static (options, configuration) => options.DeriveReadinessTimeout(configuration[S3StorageOptions.HealthTimeoutKey]))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<S3StorageOptions>, S3StorageOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
    }
}
