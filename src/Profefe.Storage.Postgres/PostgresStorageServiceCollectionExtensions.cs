using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Core.Storage;
using Profefe.Core.Storage.Segments;
using Profefe.Storage.Postgres;

namespace Microsoft.Extensions.DependencyInjection;

public static class PostgresStorageServiceCollectionExtensions
{
    /// <summary>
    /// PostgreSQL (section "Storage:Postgres"), shared by any number of collectors, as the writer, reader, retention
    /// and statistics of the storage seam: index and profile bytes in one database, or with
    /// <paramref name="blobStoreKey"/> the index only, the bytes in the <see cref="IProfileBlobStore"/> of that key;
    /// with <paramref name="segmentStoreKey"/> too, writes batched (section "Storage:Segments",
    /// <see cref="GroupCommitOptions"/>) into segment objects in the <see cref="ISegmentObjectStore"/> of that key.
    /// </summary>
    public static IServiceCollection AddProfefePostgresStorage(this IServiceCollection services, object? blobStoreKey = null, object? segmentStoreKey = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<PostgresStorageOptions>()
            .BindConfiguration(PostgresStorageOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgresStorageOptions>, PostgresStorageOptionsValidator>());
        if (segmentStoreKey is not null)
        {
            services.AddOptions<GroupCommitOptions>()
                .BindConfiguration(GroupCommitOptions.SectionName)
                .ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GroupCommitOptions>, GroupCommitOptionsValidator>());
            services.TryAddSingleton(TimeProvider.System);
        }

        services.TryAddSingleton(provider => new PostgresProfileStorage(
            provider.GetRequiredService<IOptions<PostgresStorageOptions>>().Value,
            provider.GetService<ILogger<PostgresProfileStorage>>(),
            blobStoreKey is null ? null : provider.GetRequiredKeyedService<IProfileBlobStore>(blobStoreKey),
            segmentStoreKey is null ? null : provider.GetRequiredKeyedService<ISegmentObjectStore>(segmentStoreKey),
            segmentStoreKey is null ? null : provider.GetRequiredService<IOptions<GroupCommitOptions>>().Value,
            provider.GetService<TimeProvider>()));
        return services.AddProfileStorageSeam<PostgresProfileStorage>();
    }
}
