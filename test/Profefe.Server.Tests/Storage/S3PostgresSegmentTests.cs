using System.Threading.RateLimiting;
using Npgsql;
using Profefe.Core.Ingest;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Storage.Objects;
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

    // Without the cache of written segments: reads fetch from the bucket.
    private static readonly GroupCommitOptions OneShardUncached = new() { Window = TimeSpan.FromMilliseconds(300), Shards = 1, CacheBytes = 0 };

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WriteProfile_ConcurrentWrites_StoreOneSegmentObjectReadBackByRange()
    {
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require());
        await using var storage = store.OpenBatched(groupCommit: OneShardUncached);
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
    public async Task ListProfiles_SegmentsThisCollectorWrote_ReadFromMemoryWithoutAGet_EqualToWhatOthersFetch()
    {
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), rgw.Require());
        var segmentsOfA = new RangeCountingSegmentStore(store.Segments);
        var segmentsOfB = new RangeCountingSegmentStore(store.Segments);
        var segmentsOfC = new RangeCountingSegmentStore(store.Segments);
        await using var a = new PostgresProfileStorage(store.Postgres(), null, store.Blobs, segmentsOfA, OneShard);
        await using var b = new PostgresProfileStorage(store.Postgres(), null, store.Blobs, segmentsOfB, OneShard);
        await using var c = new PostgresProfileStorage(store.Postgres(), null, store.Blobs, segmentsOfC, OneShardUncached);

        // Three segments, the middle one written by the other collector.
        var batches = new List<List<(ProfileMeta Meta, byte[] Data)>>();
        foreach (var writer in new[] { a, b, a })
        {
            var batch = Enumerable.Range(0, 10).Select(i => (Meta: Meta(DateTime.UtcNow), Data: RandomBytes(1_000 + i))).ToList();
            await Task.WhenAll(batch.Select(w => writer.WriteProfileAsync(w.Meta, w.Data, Token)));
            batches.Add(batch);
        }

        Assert.Equal(3, await store.CountRowsAsync("segments"));
        // Two profiles of each segment, so the uncached ones are read by range, not whole.
        var wanted = batches.SelectMany(static batch => new[] { batch[7], batch[2] }).Reverse().ToList();
        var ids = wanted.Select(static w => w.Meta.ProfileId).ToArray();
        var expected = wanted.Select(static w => w.Data).ToList();

        Assert.Equal(expected, (await ListAsync(a, ids)).Select(static p => p.Data.ToArray()));
        Assert.Equal(expected, (await ListAsync(b, ids)).Select(static p => p.Data.ToArray()));
        Assert.Equal(expected, (await ListAsync(c, ids)).Select(static p => p.Data.ToArray()));
        // A fetched only the segment B wrote, B the two A wrote (with its own between them), C all three.
        Assert.Equal(1, segmentsOfA.RangesFetched);
        Assert.Equal(2, segmentsOfB.RangesFetched);
        Assert.Equal(3, segmentsOfC.RangesFetched);
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

    // The segment store of one collector, counting the ranges it fetches.
    private sealed class RangeCountingSegmentStore(ISegmentObjectStore inner) : ISegmentObjectStore
    {
        private int _rangesFetched;

        public int RangesFetched => Volatile.Read(ref _rangesFetched);

        public TimeSpan OrphanGrace => inner.OrphanGrace;

        public Task PutAsync(SegmentId id, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => inner.PutAsync(id, data, cancellationToken);

        public Task<byte[]?[]> GetRangesAsync(IReadOnlyList<ObjectRange<SegmentId>> ranges, CancellationToken cancellationToken)
        {
            Interlocked.Add(ref _rangesFetched, ranges.Count);
            return inner.GetRangesAsync(ranges, cancellationToken);
        }

        public Task DeleteAsync(IReadOnlyList<SegmentId> ids, CancellationToken cancellationToken) => inner.DeleteAsync(ids, cancellationToken);

        public IAsyncEnumerable<IReadOnlyList<SegmentId>> ListAsync(SegmentId? after, DateTime before, CancellationToken cancellationToken) =>
            inner.ListAsync(after, before, cancellationToken);
    }

    private static Task<List<StoredProfile>> ListAsync(PostgresProfileStorage storage, params ProfileId[] ids) => S3PostgresStorageTests.ListAsync(storage, ids);

    private static ProfileMeta Meta(DateTime createdAt, params (string Key, string Value)[] labels) => S3PostgresStorageTests.Meta(createdAt, labels);

    private static byte[] RandomBytes(int length) => S3PostgresStorageTests.RandomBytes(length);
}
