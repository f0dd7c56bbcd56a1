using Profefe.Core.Storage.Segments;
using Profefe.Storage.Postgres;
using Profefe.Storage.S3;
using Profefe.Testing.Servers;

namespace Profefe.Server.Tests.Storage;

/// <summary>One PostgreSQL server and one Ceph RGW shared by the "S3 + PostgreSQL" test classes (they run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class S3PostgresTests : ICollectionFixture<PostgresServerFixture>, ICollectionFixture<CephRgwServerFixture>
{
    public const string Name = "S3 + PostgreSQL";
}

/// <summary>
/// A fresh PostgreSQL schema and a fresh bucket for one test, composed as the server composes "s3+postgres": the
/// index in <see cref="PostgresProfileStorage"/>, the bytes in <see cref="Blobs"/>. The schema is dropped afterwards
/// (the bucket goes with the RGW, whose objects live in memory).
/// </summary>
internal sealed class S3PostgresTestStore : IAsyncDisposable
{
    private readonly PostgresTestSchema _schema;

    private S3PostgresTestStore(PostgresServer postgres, S3StorageOptions s3)
    {
        _schema = new PostgresTestSchema(postgres);
        S3 = s3;
        Blobs = new S3ProfileBlobStore(s3);
        Segments = new S3SegmentObjectStore(s3);
    }

    public string Schema => _schema.Name;

    public S3StorageOptions S3 { get; }

    /// <summary>The bucket's objects, shared by every index <see cref="Open"/> returns.</summary>
    public S3ProfileBlobStore Blobs { get; }

    /// <summary>The bucket's segment objects, shared by every index <see cref="OpenBatched"/> returns.</summary>
    public S3SegmentObjectStore Segments { get; }

    public static async Task<S3PostgresTestStore> CreateAsync(PostgresServer postgres, CephRgwServer rgw, Action<S3StorageOptions>? configure = null) =>
        new(postgres, await CephTestBucket.CreateAsync(rgw, configure));

    public PostgresStorageOptions Postgres(int retentionBatch = 500) => _schema.Options(retentionBatch);

    public PostgresProfileStorage Open(int retentionBatch = 500) => new(Postgres(retentionBatch), null, Blobs);

    /// <summary>The index as the server composes "s3+postgres": writes batched into segments (a short window unless given).</summary>
    public PostgresProfileStorage OpenBatched(int retentionBatch = 500, GroupCommitOptions? groupCommit = null, TimeProvider? timeProvider = null) =>
        new(Postgres(retentionBatch), null, Blobs, Segments, groupCommit ?? new GroupCommitOptions { Window = TimeSpan.FromMilliseconds(5) }, timeProvider);

    /// <summary>Rows in <paramref name="table"/> of this test's schema.</summary>
    public Task<long> CountRowsAsync(string table) => _schema.CountRowsAsync(table);

    public async ValueTask DisposeAsync()
    {
        Blobs.Dispose();
        Segments.Dispose();
        await _schema.DisposeAsync();
    }
}
