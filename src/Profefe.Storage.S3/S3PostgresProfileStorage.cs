using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Storage.Postgres;

namespace Profefe.Storage.S3;

/// <summary>
/// "S3 + PostgreSQL": profile bytes in object storage (<see cref="S3ProfileBlobStore"/>), the index in PostgreSQL
/// (<see cref="PostgresProfileStorage"/> without bytes), shared by any number of stateless collectors.
/// The bytes are durable before the index row is written, so a crash leaves at worst an object nothing points at,
/// which retention deletes; failures name the dependency ("s3" or "postgres") for the 503.
/// </summary>
public sealed class S3PostgresProfileStorage
    : IProfileWriter, IProfileReader, IProfileRetention, IProfileStorageStatistics, IProfileStorageReadiness, IAsyncDisposable, IDisposable
{
    public S3PostgresProfileStorage(
        PostgresStorageOptions postgresOptions,
        S3StorageOptions s3Options,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null)
    {
        loggerFactory ??= NullLoggerFactory.Instance;
        Blobs = new S3ProfileBlobStore(s3Options, loggerFactory.CreateLogger<S3ProfileBlobStore>(), timeProvider);
        try
        {
            Index = new PostgresProfileStorage(postgresOptions, loggerFactory.CreateLogger<PostgresProfileStorage>(), Blobs);
        }
        catch
        {
            Blobs.Dispose();
            throw;
        }
    }

    /// <summary>The PostgreSQL index (which writes and reads the bytes through <see cref="Blobs"/>).</summary>
    public PostgresProfileStorage Index { get; }

    /// <summary>The objects holding the profile bytes.</summary>
    public S3ProfileBlobStore Blobs { get; }

    public Task InitializeAsync(CancellationToken cancellationToken) => Index.InitializeAsync(cancellationToken);

    public Task WriteProfileAsync(ProfileMeta meta, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        Index.WriteProfileAsync(meta, data, cancellationToken);

    public Task<IReadOnlyList<ProfileMeta>> FindProfilesAsync(TenantId tenant, ProfileQuery query, CancellationToken cancellationToken) =>
        Index.FindProfilesAsync(tenant, query, cancellationToken);

    public IAsyncEnumerable<StoredProfile> ListProfilesAsync(TenantId tenant, IReadOnlyList<ProfileId> ids, CancellationToken cancellationToken) =>
        Index.ListProfilesAsync(tenant, ids, cancellationToken);

    public Task<IReadOnlyList<string>> ListServicesAsync(TenantId tenant, CancellationToken cancellationToken) =>
        Index.ListServicesAsync(tenant, cancellationToken);

    public Task<IReadOnlyList<LabelValues>> ListLabelsAsync(TenantId tenant, string? service, CancellationToken cancellationToken) =>
        Index.ListLabelsAsync(tenant, service, cancellationToken);

    public Task<int> DeleteProfilesStoredBeforeAsync(DateTime cutoff, CancellationToken cancellationToken) =>
        Index.DeleteProfilesStoredBeforeAsync(cutoff, cancellationToken);

    /// <summary>Profiles counted by the index; bytes are the index database's (object storage cannot tell cheaply).</summary>
    public Task<ProfileStorageStatistics> GetStatisticsAsync(CancellationToken cancellationToken) =>
        Index.GetStatisticsAsync(cancellationToken);

    /// <summary>PostgreSQL answers and the bucket is reachable with the configured credentials.</summary>
    public Task CheckReadyAsync(CancellationToken cancellationToken) => Index.CheckReadyAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Index.DisposeAsync().ConfigureAwait(false);
        Blobs.Dispose();
    }

    public void Dispose()
    {
        Index.Dispose();
        Blobs.Dispose();
    }
}
