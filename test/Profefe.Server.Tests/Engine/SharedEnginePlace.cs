using Profefe.Storage.Postgres;
using Profefe.Storage.Postgres.Engine;
using Profefe.Storage.S3;
using Profefe.Testing.Servers;

namespace Profefe.Server.Tests.Engine;

/// <summary>
/// S3 + PostgreSQL for one engine test: a fresh schema and bucket, the index with its bytes in the bucket, and the
/// engine's block objects beside them. Any number of engine stores (collectors) open on it.
/// </summary>
internal sealed class SharedEnginePlace : IAsyncDisposable
{
    private readonly PostgresTestSchema _schema;
    private readonly S3ProfileBlobStore _blobs;

    private SharedEnginePlace(PostgresTestSchema schema, S3ProfileBlobStore blobs, S3EngineBlockObjects objects, PostgresProfileStorage storage)
    {
        _schema = schema;
        _blobs = blobs;
        Objects = objects;
        Storage = storage;
    }

    public PostgresProfileStorage Storage { get; }

    public S3EngineBlockObjects Objects { get; }

    public PostgresTestSchema Schema => _schema;

    public static async Task<SharedEnginePlace> CreateAsync(PostgresServer postgres, CephRgwServer rgw)
    {
        var schema = new PostgresTestSchema(postgres);
        var options = await CephTestBucket.CreateAsync(rgw);
        var blobs = new S3ProfileBlobStore(options);
        var storage = new PostgresProfileStorage(schema.Options(), blobStore: blobs);
        await storage.InitializeAsync(TestContext.Current.CancellationToken);
        return new SharedEnginePlace(schema, blobs, new S3EngineBlockObjects(options), storage);
    }

    /// <summary>
    /// Another collector's engine store: orphans count at any age, so a sweep needs no waiting; with a block cache,
    /// so that reads after a compaction or retention replaced blocks go through it as a collector's do.
    /// </summary>
    public PostgresEngineStore NewStore() => new(Storage, Objects, TimeSpan.Zero, blockCacheBytes: 1 << 20);

    public async Task<List<string>> ListObjectsAsync()
    {
        var keys = new List<string>();
        await foreach (var page in Objects.ListWrittenBeforeAsync(DateTime.MaxValue, TestContext.Current.CancellationToken))
        {
            keys.AddRange(page);
        }

        return keys;
    }

    public async ValueTask DisposeAsync()
    {
        await Storage.DisposeAsync();
        _blobs.Dispose();
        Objects.Dispose();
        await _schema.DisposeAsync();
    }
}
