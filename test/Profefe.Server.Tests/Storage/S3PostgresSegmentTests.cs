using System.Threading.RateLimiting;
using Npgsql;
using Profefe.Core.Ingest;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Storage.Segments;
using Profefe.Core.Tenancy;
using Profefe.Storage.Postgres;
using Profefe.Testing.Servers;

namespace Profefe.Server.Tests.Storage;

/// <summary>"S3 + PostgreSQL" with writes batched into segment objects: one PUT and one transaction per batch.</summary>
[Collection(S3PostgresTests.Name)]
public sealed class S3PostgresSegmentTests(PostgresServerFixture postgres, CephRgwServerFixture rgw)
{
    private static readonly GroupCommitOptions OneShard = new() { Window = TimeSpan.FromMilliseconds(300), Shards = 1 };

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WriteProfile_ConcurrentWrites_StoreOneSegmentObjectReadBackByRange()
    {
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require());
        await using var storage = store.OpenBatched(groupCommit: OneShard);
        var writes = Enumerable.Range(0, 20).Select(i => (Meta: Meta(DateTime.UtcNow, ("i", i.ToString(System.Globalization.CultureInfo.InvariantCulture))), Data: RandomBytes(1_000 + i))).ToList();

        await Task.WhenAll(writes.Select(w => storage.WriteProfileAsync(w.Meta, w.Data, Token)));

        Assert.Equal(1, await store.CountRowsAsync("segments"));
        Assert.Equal(20, await store.CountRowsAsync("profiles"));
        Assert.Single(await ListSegmentObjectsAsync(store));
        Assert.Null(await store.Blobs.GetAsync(new ProfileKey(TenantId.Default, writes[0].Meta.ProfileId), Token));
        // One profile (a range), then all of them (the whole object), in the order asked.
        Assert.Equal(writes[7].Data, Assert.Single(await ListAsync(storage, writes[7].Meta.ProfileId)).Data.ToArray());
        var all = await ListAsync(storage, [.. writes.Select(static w => w.Meta.ProfileId).Reverse()]);
        Assert.Equal(writes.Select(static w => w.Data).Reverse(), all.Select(static p => p.Data.ToArray()));
        Assert.Equal(20, (await storage.FindProfilesAsync(TenantId.Default, new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue), Token)).Count);
    }

    [Fact]
    public async Task WriteProfile_OneUploadSlot_PushesWaitingForTheirBatchGiveItBackAndShareOneSegment()
    {
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require());
        await using var storage = store.OpenBatched(groupCommit: new GroupCommitOptions { Window = TimeSpan.FromSeconds(1), Shards = 1 });
        await storage.InitializeAsync(Token);
        using var uploads = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = 1, QueueLimit = 0 });

        // Each push holds the only slot as RequestLimitMiddleware does; had the first kept it until its batch was
        // durable, the second could not have started before that batch was written.
        var first = await PushAsync(storage, uploads, Meta(DateTime.UtcNow));
        var second = await PushAsync(storage, uploads, Meta(DateTime.UtcNow));
        await Task.WhenAll(first, second);

        Assert.Equal(1, await store.CountRowsAsync("segments"));
        Assert.Equal(2, await store.CountRowsAsync("profiles"));
    }

    [Fact]
    public async Task WriteProfile_BucketMissing_FailsEveryWriteOfTheBatchWith503AndStoresNothing()
    {
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require(), static o => o.Bucket = "missing-" + Guid.NewGuid().ToString("N")[..8]);
        await using var storage = store.OpenBatched(groupCommit: OneShard);
        await storage.InitializeAsync(Token);

        var writes = Enumerable.Range(0, 5).Select(_ => storage.WriteProfileAsync(Meta(DateTime.UtcNow), RandomBytes(100), Token)).ToList();

        foreach (var write in writes)
        {
            Assert.Equal("s3", (await Assert.ThrowsAsync<StorageUnavailableException>(() => write)).Dependency);
        }

        Assert.Equal(0, await store.CountRowsAsync("profiles"));
        Assert.Equal(0, await store.CountRowsAsync("segments"));
        Assert.Empty(await storage.ListServicesAsync(TenantId.Default, Token));
    }

    [Fact]
    public async Task WriteProfile_IndexCommitTimesOut_FailsEveryWriteWith503_AndTheSweepDeletesTheOrphanObject()
    {
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require());
        var options = store.Postgres();
        options.CommandTimeout = TimeSpan.FromSeconds(1);
        await using var storage = new PostgresProfileStorage(options, null, store.Blobs, store.Segments, OneShard);
        await storage.InitializeAsync(Token);

        // Another session holds the segments table: the batch's index transaction hangs until its statement times out.
        await using (var blocker = new NpgsqlConnection(options.ConnectionString))
        {
            await blocker.OpenAsync(Token);
            await using var transaction = await blocker.BeginTransactionAsync(Token);
            await using (var lockTable = new NpgsqlCommand($"LOCK TABLE \"{store.Schema}\".segments IN ACCESS EXCLUSIVE MODE", blocker, transaction))
            {
                await lockTable.ExecuteNonQueryAsync(Token);
            }

            var writes = Enumerable.Range(0, 5).Select(_ => storage.WriteProfileAsync(Meta(DateTime.UtcNow), RandomBytes(100), Token)).ToList();
            foreach (var write in writes)
            {
                Assert.Equal("postgres", (await Assert.ThrowsAsync<StorageUnavailableException>(() => write)).Dependency);
            }

            await transaction.RollbackAsync(Token);
        }

        Assert.Equal(0, await store.CountRowsAsync("profiles"));
        Assert.Single(await ListSegmentObjectsAsync(store));

        // The test bucket's grace interval is zero: the next retention pass deletes the object nothing indexes.
        await storage.DeleteProfilesStoredBeforeAsync(DateTime.UtcNow.AddDays(-1), Token);

        Assert.Empty(await ListSegmentObjectsAsync(store));
        var meta = Meta(DateTime.UtcNow);
        await storage.WriteProfileAsync(meta, RandomBytes(10), Token);
        Assert.Single(await ListAsync(storage, meta.ProfileId));
    }

    [Fact]
    public async Task ListProfiles_ProfilesWrittenOneObjectEach_StillReadBesideSegments()
    {
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require());
        var before = Meta(DateTime.UtcNow);
        var beforeData = RandomBytes(300);
        await using (var unbatched = store.Open())
        {
            await unbatched.WriteProfileAsync(before, beforeData, Token);
        }

        await using var storage = store.OpenBatched();
        var after = Meta(DateTime.UtcNow);
        var afterData = RandomBytes(400);
        await storage.WriteProfileAsync(after, afterData, Token);

        var found = await ListAsync(storage, before.ProfileId, after.ProfileId);
        Assert.Equal([beforeData, afterData], found.Select(static p => p.Data.ToArray()));
    }

    [Fact]
    public async Task DeleteProfilesStoredBefore_SegmentEmptied_DeletesItsRowAndObject_AndKeepsYoungerSegments()
    {
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require());
        await using var storage = store.OpenBatched(retentionBatch: 3, groupCommit: OneShard);
        var now = DateTime.UtcNow;
        var old = Enumerable.Range(0, 7).Select(i => Meta(now.AddHours(-3).AddSeconds(i))).ToList();
        await Task.WhenAll(old.Select(m => storage.WriteProfileAsync(m, RandomBytes(50), Token)));
        var recent = Meta(now);
        await storage.WriteProfileAsync(recent, RandomBytes(50), Token);
        Assert.Equal(2, (await ListSegmentObjectsAsync(store)).Count);

        Assert.Equal(7, await storage.DeleteProfilesStoredBeforeAsync(now.AddHours(-1), Token));

        Assert.Equal(1, await store.CountRowsAsync("segments"));
        Assert.Single(await ListSegmentObjectsAsync(store));
        Assert.Single(await ListAsync(storage, recent.ProfileId));
    }

    // Its own flow, like a request's: the slot is ambient in it only.
    private static async Task<Task> PushAsync(PostgresProfileStorage storage, ConcurrencyLimiter uploads, ProfileMeta meta)
    {
        var lease = uploads.AttemptAcquire();
        Assert.True(lease.IsAcquired);
        var (write, released) = await Task.Run(() =>
        {
            var slot = UploadSlot.Hold(lease);
            return (storage.WriteProfileAsync(meta, RandomBytes(100), Token), slot.IsReleased);
        });
        Assert.True(released);
        return write;
    }

    private static async Task<List<SegmentId>> ListSegmentObjectsAsync(S3PostgresTestStore store)
    {
        var ids = new List<SegmentId>();
        await foreach (var page in store.Segments.ListAsync(null, DateTime.MaxValue, Token))
        {
            ids.AddRange(page);
        }

        return ids;
    }

    private static Task<List<StoredProfile>> ListAsync(PostgresProfileStorage storage, params ProfileId[] ids) => S3PostgresStorageTests.ListAsync(storage, ids);

    private static ProfileMeta Meta(DateTime createdAt, params (string Key, string Value)[] labels) => S3PostgresStorageTests.Meta(createdAt, labels);

    private static byte[] RandomBytes(int length) => S3PostgresStorageTests.RandomBytes(length);
}
