using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Core.Engine;
using Profefe.Core.Storage;
using Profefe.Core.Storage.Segments;
using Profefe.Storage.Postgres;
using Profefe.Storage.Postgres.Engine;

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

    /// <summary>
    /// The profile engine (section "Engine") on the PostgreSQL store added before: the index as its write log, its
    /// data in a <see cref="PostgresEngineStore"/> that every collector on the database shares (one at a time
    /// cuts, the others read), blocks in the <see cref="IEngineBlockObjects"/> of <paramref name="blockObjectsKey"/>
    /// or, without one, in PostgreSQL.
    /// </summary>
    public static IServiceCollection AddProfefePostgresEngine(this IServiceCollection services, object? blockObjectsKey = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IProfileLog>(static provider => provider.GetRequiredService<PostgresProfileStorage>());
        services.TryAddSingleton<IProfileEngineStore>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<EngineOptions>>().Value;
            return new PostgresEngineStore(
                provider.GetRequiredService<PostgresProfileStorage>(),
                blockObjectsKey is null ? null : provider.GetRequiredKeyedService<IEngineBlockObjects>(blockObjectsKey),
                options.OrphanMinAge,
                provider.GetService<TimeProvider>(),
                blockObjectsKey is null ? 0 : options.BlockCacheBytes);
        });
        return services.AddProfefeEngine();
    }
}
