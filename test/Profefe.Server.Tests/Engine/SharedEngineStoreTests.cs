using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Profefe.Core.Engine;
using Profefe.Core.Engine.Blocks;
using Profefe.Core.Ingest;
using Profefe.Core.Profiles;
using Profefe.Core.Query;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Pprof;
using Profefe.Testing;
using Profefe.Testing.Engine;
using Profefe.Testing.Servers;

namespace Profefe.Server.Tests.Engine;

/// <summary>
/// The engine on S3 + PostgreSQL shared by several collectors (real Ceph RGW and PostgreSQL): the lease and its
/// fence, engines racing to cut and compact, orphaned objects, and the write log never passing a late commit.
/// </summary>
[Collection(StoragePostgresTests.Name)]
public sealed class SharedEngineStoreTests(PostgresServerFixture postgres, CephRgwServerFixture ceph) : IClassFixture<CephRgwServerFixture>
{
    private static readonly DateTime BaseTime = new(2026, 3, 1, 9, 40, 0, DateTimeKind.Utc);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Commit_AfterAnotherCollectorTookTheLease_IsRefusedAndLeavesNoObject()
    {
        await using var place = await SharedEnginePlace.CreateAsync(postgres.Require(), ceph.Require());
        var first = place.NewStore();
        var second = place.NewStore();
        await first.LoadAsync(Token);
        await second.LoadAsync(Token);
        Assert.True(await first.TryHoldLeaseAsync(TimeSpan.FromSeconds(1), Token));
        Assert.False(await second.TryHoldLeaseAsync(TimeSpan.FromSeconds(1), Token));

        // The first holder stalls past its lease; the second takes over.
        await Task.Delay(TimeSpan.FromSeconds(1.5), Token);
        Assert.True(await second.TryHoldLeaseAsync(TimeSpan.FromSeconds(30), Token));

        await Assert.ThrowsAsync<EngineLeaseLostException>(() => first.CommitAsync(OneBlockCommit(), Token));
        Assert.Empty(await place.ListObjectsAsync());
        Assert.False(await first.TryHoldLeaseAsync(TimeSpan.FromSeconds(1), Token));

        await second.CommitAsync(OneBlockCommit(), Token);
        Assert.Single(await place.ListObjectsAsync());
        Assert.Equal(1, await place.Schema.CountRowsAsync("engine_blocks"));
    }

    [Fact]
    public async Task DeleteOrphans_ObjectNoIndexRowPointsAt_DeletesOnlyIt()
    {
        await using var place = await SharedEnginePlace.CreateAsync(postgres.Require(), ceph.Require());
        var store = place.NewStore();
        await store.LoadAsync(Token);
        Assert.True(await store.TryHoldLeaseAsync(TimeSpan.FromSeconds(30), Token));
        await store.CommitAsync(OneBlockCommit(), Token);
        var indexed = Assert.Single(await place.ListObjectsAsync());
        await place.Objects.PutAsync("packs/crashed-before-its-commit", new byte[] { 1, 2, 3 }, Token);

        Assert.Equal(1, await store.DeleteOrphansAsync(Token));

        Assert.Equal([indexed], await place.ListObjectsAsync());
        Assert.Single(await store.ReadBlocksAsync(1, EngineCatalog.BucketOf(BaseTime.Ticks), Token));
    }

    [Fact]
    public async Task Commit_BlocksOfSeveralSeriesAndHours_PutsOnePackEachBlockReadByItsRange()
    {
        await using var place = await SharedEnginePlace.CreateAsync(postgres.Require(), ceph.Require());
        using var store = place.NewStore();
        await store.LoadAsync(Token);
        Assert.True(await store.TryHoldLeaseAsync(TimeSpan.FromSeconds(30), Token));
        var commit = ThreeBlockCommit();

        await store.CommitAsync(commit, Token);

        Assert.Single(await place.ListObjectsAsync());
        Assert.Equal(3, await place.Schema.CountRowsAsync("engine_blocks"));
        foreach (var block in commit.Blocks)
        {
            Assert.Equal(block.Data, Assert.Single(await store.ReadBlocksAsync(block.Series, block.Bucket, Token)).Data);
        }
    }

    [Fact]
    public async Task ReplaceBucket_PackOtherBlocksStillPointInto_KeepsItUntilTheLastGoes()
    {
        await using var place = await SharedEnginePlace.CreateAsync(postgres.Require(), ceph.Require());
        using var store = place.NewStore();
        await store.LoadAsync(Token);
        Assert.True(await store.TryHoldLeaseAsync(TimeSpan.FromSeconds(30), Token));
        var commit = ThreeBlockCommit();
        await store.CommitAsync(commit, Token);
        var pack = Assert.Single(await place.ListObjectsAsync());

        // Retention empties the first block's hour: the pack still holds the other two.
        await store.ReplaceBucketAsync(commit.Blocks[0].Series, commit.Blocks[0].Bucket, long.MaxValue, null, null, Token);

        Assert.Equal([pack], await place.ListObjectsAsync());
        Assert.Equal(0, await store.DeleteOrphansAsync(Token));
        Assert.Empty(await store.ReadBlocksAsync(commit.Blocks[0].Series, commit.Blocks[0].Bucket, Token));
        Assert.Equal(commit.Blocks[2].Data, Assert.Single(await store.ReadBlocksAsync(commit.Blocks[2].Series, commit.Blocks[2].Bucket, Token)).Data);

        await store.ReplaceBucketAsync(commit.Blocks[1].Series, commit.Blocks[1].Bucket, long.MaxValue, null, null, Token);
        await store.ReplaceBucketAsync(commit.Blocks[2].Series, commit.Blocks[2].Bucket, long.MaxValue, null, null, Token);

        Assert.Empty(await place.ListObjectsAsync());
    }

    [Fact]
    public async Task ReplaceBlocks_BucketsOfTwoCuts_WritesOnePackAndDeletesOnlyThePacksLeftEmpty()
    {
        await using var place = await SharedEnginePlace.CreateAsync(postgres.Require(), ceph.Require());
        using var store = place.NewStore();
        await store.LoadAsync(Token);
        Assert.True(await store.TryHoldLeaseAsync(TimeSpan.FromSeconds(30), Token));
        var first = ThreeBlockCommit();
        await store.CommitAsync(first, Token);
        var firstPack = Assert.Single(await place.ListObjectsAsync());
        var hour = EngineCatalog.BucketOf(BaseTime.Ticks);
        await store.CommitAsync(first with { NewSeries = [], Blocks = [new NewBlock(1, hour, 1, hour, hour, [4, 5, 6]), new NewBlock(2, hour, 1, hour, hour, [8, 9])] }, Token);
        Assert.Equal(2, (await place.ListObjectsAsync()).Count);

        var replacements = new List<BlockReplacement>();
        foreach (var series in new[] { 1, 2 })
        {
            var blocks = await store.ReadBlocksAsync(series, hour, Token);
            Assert.Equal(2, blocks.Count);
            replacements.Add(new BlockReplacement(blocks.Select(static b => b.Id).ToList(), new NewBlock(series, hour, 2, hour, hour, [.. blocks[0].Data, .. blocks[1].Data])));
        }

        await store.ReplaceBlocksAsync(replacements, Token);

        // The second cut's pack held only replaced blocks; the first still holds series 1's next hour.
        var objects = await place.ListObjectsAsync();
        Assert.Equal(2, objects.Count);
        Assert.Contains(firstPack, objects);
        Assert.Equal(2, await CountPacksAsync(place));
        Assert.Equal(replacements[1].Block.Data, Assert.Single(await store.ReadBlocksAsync(2, hour, Token)).Data);
        Assert.Equal(first.Blocks[1].Data, Assert.Single(await store.ReadBlocksAsync(1, hour + EngineCatalog.BucketTicks, Token)).Data);
    }

    [Fact]
    public async Task ReadAfter_EarlierTransactionStillOpen_PassesNothingItCouldStillCommitBefore()
    {
        await using var place = await SharedEnginePlace.CreateAsync(postgres.Require(), ceph.Require());
        Assert.Equal(0, await place.Storage.HeadAsync(Token));
        await using var other = new NpgsqlConnection(place.Schema.ConnectionString);
        await other.OpenAsync(Token);
        await using var open = await other.BeginTransactionAsync(Token);
        await using (var takeId = new NpgsqlCommand("SELECT pg_current_xact_id()", other, open))
        {
            // A transaction id below the next profile's: what a collector that has not committed yet holds.
            await takeId.ExecuteScalarAsync(Token);
        }

        var meta = new ProfileMeta(ProfileId.NewId(BaseTime), ProfileType.Cpu, "api", [], BaseTime);
        await place.Storage.WriteProfileAsync(meta, TestData.Read("go/cpu_json_01.pb.gz"), Token);

        Assert.True(await place.Storage.HeadAsync(Token) > 0);
        Assert.Empty(await place.Storage.ReadAfterAsync(0, 100, Token));

        await open.RollbackAsync(Token);
        var logged = Assert.Single(await place.Storage.ReadAfterAsync(0, 100, Token));
        Assert.Equal(meta.ProfileId, logged.Profile.Meta.ProfileId);
        Assert.Equal(await place.Storage.HeadAsync(Token), logged.Position);
    }

    [Fact]
    public async Task Merge_ReaderCatalogBehindTheHoldersNewSymbols_LoadsThemBeforeAnswering()
    {
        await using var place = await SharedEnginePlace.CreateAsync(postgres.Require(), ceph.Require());
        using var holder = place.NewStore();
        using var reader = place.NewStore();
        var holderCatalog = new EngineCatalog();
        holderCatalog.Load(await holder.LoadAsync(Token));
        Assert.True(await holder.TryHoldLeaseAsync(TimeSpan.FromMinutes(5), Token));
        var cutter = new BlockCutter(holderCatalog, holder, place.Storage, batch: 100);
        var hour = new DateTime(2026, 3, 1, 10, 0, 0, DateTimeKind.Utc);
        await PushAsync(place, "go/cpu_json_01.pb.gz", hour.AddMinutes(5));
        await cutter.CutAsync(Token);

        var readerCatalog = new EngineCatalog();
        readerCatalog.Load(await reader.LoadAsync(Token));
        await reader.RefreshAsync(readerCatalog, Token);
        Assert.False(await reader.TryHoldLeaseAsync(TimeSpan.FromMinutes(5), Token));

        // Another program's profile in the same hour: its rollup now needs symbols the reader has not loaded.
        await PushAsync(place, "go/cpu_regexp_02.pb.gz", hour.AddMinutes(20));
        await cutter.CutAsync(Token);
        var query = new ProfileQuery("api", ProfileType.Cpu, [], hour, hour.AddHours(1).AddTicks(-1));

        var expected = await new Profefe.Core.Engine.Query.EngineQuerier(holderCatalog, holder).MergeAsync("", query, 0, Token);
        var actual = await new Profefe.Core.Engine.Query.EngineQuerier(readerCatalog, reader).MergeAsync("", query, 0, Token);

        Assert.Equal(2, expected!.Profiles);
        Assert.Equal(2, actual!.Profiles);
        StackValues.AssertSame(StackValues.Of(expected.Profile), StackValues.Of(actual.Profile));
    }

    [Fact]
    public async Task TwoEngines_RacingToCutAndCompactWithStalls_NeverBothCommitARange()
    {
        await using var place = await SharedEnginePlace.CreateAsync(postgres.Require(), ceph.Require());
        var options = Options.Create(new EngineOptions { CutInterval = TimeSpan.FromMilliseconds(50), CutBatch = 7, LeaseDuration = TimeSpan.FromSeconds(1) });
        var stores = new[] { new StallingEngineStore(place.NewStore()), new StallingEngineStore(place.NewStore()) };
        var engines = Array.ConvertAll(stores, store => new ProfileEngine(store, place.Storage, options, NullLogger<ProfileEngine>.Instance));
        foreach (var engine in engines)
        {
            await engine.StartAsync(Token);
        }

        string[] files = ["go/cpu_json_01.pb.gz", "go/cpu_hash_01.pb.gz", "go/cpu_mix_02.pb.gz"];
        const int Profiles = 90;
        try
        {
            await Parallel.ForAsync(0, Profiles, new ParallelOptions { MaxDegreeOfParallelism = 3, CancellationToken = Token }, async (i, ct) =>
            {
                var createdAt = BaseTime.AddMinutes(i * 3);
                var meta = new ProfileMeta(ProfileId.NewId(createdAt), ProfileType.Cpu, "api", [new Label("pod", "p" + (i % 3))], createdAt);
                await place.Storage.WriteProfileAsync(meta, TestData.Read(files[i % files.Length]), ct);
            });

            var head = await place.Storage.HeadAsync(Token);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
            deadline.CancelAfter(TimeSpan.FromMinutes(2));
            foreach (var engine in engines)
            {
                while (engine.Cursor < head || (await place.Storage.ReadAfterAsync(engine.Cursor, 1, deadline.Token)).Count > 0)
                {
                    await engine.CatchUpAsync(deadline.Token);
                    await Task.Delay(50, deadline.Token);
                }
            }
        }
        finally
        {
            foreach (var engine in engines)
            {
                await engine.StopAsync(CancellationToken.None);
                engine.Dispose();
            }
        }

        Assert.True(stores.Sum(static s => s.Refused) > 0, "no stalled holder ever lost its lease: the race was not run");
        var reader = place.NewStore();
        var catalog = new EngineCatalog();
        catalog.Load(await reader.LoadAsync(Token));
        var ids = new List<ProfileId>();
        foreach (var series in catalog.SeriesOf(""))
        {
            for (var bucket = EngineCatalog.BucketOf(BaseTime.Ticks); bucket <= BaseTime.AddMinutes(Profiles * 3).Ticks; bucket += EngineCatalog.BucketTicks)
            {
                foreach (var block in await reader.ReadBlocksAsync(series.Id, bucket, Token))
                {
                    ids.AddRange(ProfileBlockCodec.Decode(block.Data).Select(static row => row.Id));
                }
            }
        }

        // Every profile in exactly one block: a range cut or compacted twice would hold some twice.
        Assert.Equal(Profiles, ids.Count);
        Assert.Equal(Profiles, ids.Distinct().Count());
        Assert.Equal(Profiles, await place.Schema.CountRowsAsync("engine_entries"));
        foreach (var engine in engines)
        {
            var merge = await engine.Querier.MergeAsync("", new ProfileQuery("api", ProfileType.Cpu, [], BaseTime, BaseTime.AddDays(1)), int.MaxValue, Token);
            Assert.Equal(Profiles, merge!.Profiles);
        }

        await reader.DeleteOrphansAsync(Token);
        Assert.Equal(await CountPacksAsync(place), (await place.ListObjectsAsync()).Count);
    }

    [Fact]
    public async Task TwoEngines_MergingWhileTheHolderCuts_CountEveryProfileOnce()
    {
        await using var place = await SharedEnginePlace.CreateAsync(postgres.Require(), ceph.Require());

        // Small, frequent cuts so that merges meet a backlog and cuts landing while they read; no waiting for the
        // cutter, so a merge reads the blocks plus the uncut profiles (or raw, when cuts keep landing).
        var options = Options.Create(new EngineOptions { CutInterval = TimeSpan.FromMilliseconds(100), CutBatch = 3, CatchUpTimeout = TimeSpan.Zero });
        var engines = new[] { new ProfileEngine(place.NewStore(), place.Storage, options, NullLogger<ProfileEngine>.Instance), new ProfileEngine(place.NewStore(), place.Storage, options, NullLogger<ProfileEngine>.Instance) };
        var queriers = Array.ConvertAll(engines, engine => new ProfileQuerier(place.Storage, Options.Create(new CollectorOptions()), NullLogger<ProfileQuerier>.Instance, engine));
        foreach (var engine in engines)
        {
            await engine.StartAsync(Token);
        }

        string[] files = ["go/cpu_json_01.pb.gz", "go/cpu_hash_01.pb.gz", "go/cpu_mix_02.pb.gz"];
        var all = new ProfileQuery("api", ProfileType.Cpu, [], BaseTime.AddHours(-1), BaseTime.AddDays(1));
        var pod = new ProfileQuery("api", ProfileType.Cpu, [new Label("pod", "p1")], BaseTime.AddHours(1), BaseTime.AddDays(1));
        try
        {
            for (var i = 0; i < 45; i++)
            {
                var createdAt = BaseTime.AddMinutes(i * 4);
                await place.Storage.WriteProfileAsync(new ProfileMeta(ProfileId.NewId(createdAt), ProfileType.Cpu, "api", [new Label("pod", "p" + (i % 3))], createdAt), TestData.Read(files[i % files.Length]), Token);
                foreach (var query in i < 17 ? [all] : (ProfileQuery[])[all, pod])
                {
                    var merged = new List<long[]>();
                    foreach (var querier in queriers)
                    {
                        merged.Add(StackValues.Totals(await querier.MergeProfilesAsync(TenantId.Default, query, Token)));
                    }

                    var expected = StackValues.Totals(await RawMergeAsync(place, query));
                    Assert.All(merged, totals => Assert.Equal(expected, totals));
                }
            }
        }
        finally
        {
            foreach (var engine in engines)
            {
                await engine.StopAsync(CancellationToken.None);
                engine.Dispose();
            }
        }

        Assert.Contains(engines, static engine => engine.Cursor > 0);
    }

    [Fact]
    public async Task Holder_BurstOfPushes_LeavesThemInTheLogKeepingItsLeaseUntilAQueryNeedsThem()
    {
        await using var place = await SharedEnginePlace.CreateAsync(postgres.Require(), ceph.Require());
        var options = Options.Create(new EngineOptions
        {
            CutInterval = TimeSpan.FromMilliseconds(50),
            LeaseDuration = TimeSpan.FromSeconds(3),
            BusyIngestRate = 1,
            MaxCutDelay = TimeSpan.FromHours(1),
        });
        using var engine = new ProfileEngine(place.NewStore(), place.Storage, options, NullLogger<ProfileEngine>.Instance);
        await engine.StartAsync(Token);
        try
        {
            // Ten pushes a second for longer than the lease lasts: a burst to the pacer, which measures over a second.
            var started = DateTime.UtcNow;
            var pushed = 0;
            while (DateTime.UtcNow - started < TimeSpan.FromSeconds(4.5))
            {
                var createdAt = BaseTime.AddMinutes(pushed++);
                await place.Storage.WriteProfileAsync(new ProfileMeta(ProfileId.NewId(createdAt), ProfileType.Cpu, "api", [], createdAt), TestData.Read("go/cpu_hash_01.pb.gz"), Token);
                await Task.Delay(100, Token);
            }

            Assert.True(await place.Storage.CountAfterAsync(engine.Cursor, 1_000, Token) > 0, "the burst was cut as it came");
            Assert.False(await place.NewStore().TryHoldLeaseAsync(TimeSpan.FromSeconds(30), Token), "the deferring holder lost its lease");

            Assert.True(await engine.CatchUpAsync(Token));
            Assert.Equal(0, await place.Storage.CountAfterAsync(engine.Cursor, 1_000, Token));
        }
        finally
        {
            await engine.StopAsync(CancellationToken.None);
        }
    }

    private static async Task<Profile> RawMergeAsync(SharedEnginePlace place, ProfileQuery query)
    {
        var metas = await place.Storage.FindProfilesAsync(TenantId.Default, query, Token);
        var profiles = new List<Profile>();
        await foreach (var stored in place.Storage.ListProfilesAsync(TenantId.Default, [.. metas.Select(static m => m.ProfileId)], Token))
        {
            profiles.Add(ProfileDecoder.Decode(stored.Data.Span));
        }

        return ProfileMerger.Merge(profiles);
    }

    private static Task PushAsync(SharedEnginePlace place, string file, DateTime createdAt) =>
        place.Storage.WriteProfileAsync(new ProfileMeta(ProfileId.NewId(createdAt), ProfileType.Cpu, "api", [], createdAt), TestData.Read(file), Token);

    // Blocks of two series and two hours, each of its own length, in one cut.
    private static EngineCommit ThreeBlockCommit()
    {
        var hour = EngineCatalog.BucketOf(BaseTime.Ticks);
        return new EngineCommit(
            Cursor: 5,
            NewSeries: [new EngineSeries(1, "", "api", ProfileType.Cpu, []), new EngineSeries(2, "", "api", ProfileType.Cpu, [new Label("pod", "p1")])],
            SymbolDeltas: [],
            Blocks:
            [
                new NewBlock(1, hour, 1, hour, hour, [1, 1, 1]),
                new NewBlock(1, hour + EngineCatalog.BucketTicks, 1, hour, hour, [2, 2, 2, 2, 2]),
                new NewBlock(2, hour, 1, hour, hour, [3]),
            ],
            Rollups: [],
            Profiles: []);
    }

    private static async Task<long> CountPacksAsync(SharedEnginePlace place)
    {
        await using var connection = new NpgsqlConnection(place.Schema.ConnectionString);
        await connection.OpenAsync(Token);
        await using var command = new NpgsqlCommand($"SELECT count(DISTINCT object_key) FROM \"{place.Schema.Name}\".engine_blocks", connection);
        return (long)(await command.ExecuteScalarAsync(Token))!;
    }

    private static EngineCommit OneBlockCommit() => new(
        Cursor: 5,
        NewSeries: [new EngineSeries(1, "", "api", ProfileType.Cpu, [])],
        SymbolDeltas: [],
        Blocks: [new NewBlock(1, EngineCatalog.BucketOf(BaseTime.Ticks), 1, BaseTime.Ticks, BaseTime.Ticks, [7, 7, 7])],
        Rollups: [],
        Profiles: []);

    /// <summary>
    /// A collector that stalls (a long GC pause, a frozen VM) in every third change, past its lease, so that the
    /// other takes over meanwhile; counts the changes the store then refused.
    /// </summary>
    private sealed class StallingEngineStore(ISharedEngineStore inner) : ISharedEngineStore
    {
        private int _changes;
        private int _refused;

        public int Refused => Volatile.Read(ref _refused);

        public Task<EngineSnapshot> LoadAsync(CancellationToken cancellationToken) => inner.LoadAsync(cancellationToken);

        public Task CommitAsync(EngineCommit commit, CancellationToken cancellationToken) => ChangeAsync(() => inner.CommitAsync(commit, cancellationToken), cancellationToken);

        public Task<IReadOnlyList<StoredRollup>> ReadRollupsAsync(IReadOnlyList<int> series, long span, long fromBucket, long toBucket, bool withData, CancellationToken cancellationToken) =>
            inner.ReadRollupsAsync(series, span, fromBucket, toBucket, withData, cancellationToken);

        public Task PutRollupsAsync(IReadOnlyList<StoredRollup> put, IReadOnlyList<(int Series, long Span, long Bucket)> delete, CancellationToken cancellationToken) =>
            ChangeAsync(() => inner.PutRollupsAsync(put, delete, cancellationToken), cancellationToken);

        public Task<IReadOnlyList<StoredBlock>> ReadBlocksAsync(int series, long bucket, CancellationToken cancellationToken) => inner.ReadBlocksAsync(series, bucket, cancellationToken);

        public Task<IReadOnlyList<StoredBlock>> ReadBlocksAsync(IReadOnlyList<int> series, long bucket, CancellationToken cancellationToken) => inner.ReadBlocksAsync(series, bucket, cancellationToken);

        public Task<IReadOnlyList<EngineProfileEntry>> FindProfilesAsync(IReadOnlyList<int> series, long from, long to, CancellationToken cancellationToken) =>
            inner.FindProfilesAsync(series, from, to, cancellationToken);

        public Task<IReadOnlyList<EngineProfileEntry>> FindProfilesInWindowsAsync(IReadOnlyList<int> series, IReadOnlyList<long> starts, long width, CancellationToken cancellationToken) =>
            inner.FindProfilesInWindowsAsync(series, starts, width, cancellationToken);

        public Task<EngineProfileEntry?> GetProfileAsync(ProfileId id, CancellationToken cancellationToken) => inner.GetProfileAsync(id, cancellationToken);

        public Task<IReadOnlyList<(int Series, long Bucket)>> ListFragmentedBucketsAsync(int max, CancellationToken cancellationToken) => inner.ListFragmentedBucketsAsync(max, cancellationToken);

        public Task ReplaceBlocksAsync(IReadOnlyList<BlockReplacement> replacements, CancellationToken cancellationToken) =>
            ChangeAsync(() => inner.ReplaceBlocksAsync(replacements, cancellationToken), cancellationToken);

        public Task<IReadOnlyList<ExpiredBucket>> ListExpiredBucketsAsync(long storedBefore, int max, CancellationToken cancellationToken) => inner.ListExpiredBucketsAsync(storedBefore, max, cancellationToken);

        public Task ReplaceBucketAsync(int series, long bucket, long storedBefore, NewBlock? block, StoredRollup? rollup, CancellationToken cancellationToken) =>
            ChangeAsync(() => inner.ReplaceBucketAsync(series, bucket, storedBefore, block, rollup, cancellationToken), cancellationToken);

        public Task<long> GetBytesAsync(CancellationToken cancellationToken) => inner.GetBytesAsync(cancellationToken);

        public Task<bool> TryHoldLeaseAsync(TimeSpan duration, CancellationToken cancellationToken) => inner.TryHoldLeaseAsync(duration, cancellationToken);

        public Task RefreshAsync(EngineCatalog catalog, CancellationToken cancellationToken) => inner.RefreshAsync(catalog, cancellationToken);

        public Task<int> DeleteOrphansAsync(CancellationToken cancellationToken) => inner.DeleteOrphansAsync(cancellationToken);

        public Task<long> ReadCursorAsync(CancellationToken cancellationToken) => inner.ReadCursorAsync(cancellationToken);

        private async Task ChangeAsync(Func<Task> change, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _changes) % 3 == 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(1.5), cancellationToken);
            }

            try
            {
                await change();
            }
            catch (EngineLeaseLostException)
            {
                Interlocked.Increment(ref _refused);
                throw;
            }
        }
    }
}
