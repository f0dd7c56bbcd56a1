using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Profefe.Core.Engine;
using Profefe.Core.Engine.Blocks;
using Profefe.Core.Engine.Query;
using Profefe.Core.Ingest;
using Profefe.Core.Profiles;
using Profefe.Core.Query;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Pprof;

namespace Profefe.Testing.Engine;

/// <summary>
/// A raw store opened for one engine contract test, with the engine's write log and store over it. For a shared
/// store, <paramref name="Store"/> holds the lease. <paramref name="Owner"/> closes and deletes it all afterwards.
/// </summary>
public sealed record EngineUnderTest(
    IProfileWriter Writer,
    IProfileReader Reader,
    IProfileRetention Retention,
    IProfileLog Log,
    IProfileEngineStore Store,
    IAsyncDisposable Owner);

/// <summary>
/// What every engine store must do, written once: the engine's answers against merging the raw profiles, and the
/// store's own facts (another store on the same data loads what was committed; a range replaced once stays
/// replaced). One subclass per backend opens it.
/// </summary>
public abstract class ProfileEngineContractTests
{
    private static readonly DateTime BaseTime = new(2026, 3, 1, 9, 17, 0, DateTimeKind.Utc);

    private static readonly string[] CpuFiles = ["go/cpu_json_01.pb.gz", "go/cpu_hash_01.pb.gz", "go/cpu_mix_02.pb.gz", "go/cpu_regexp_02.pb.gz", "go/cpu_long_01.pb.gz"];

    private static readonly string[] HeapFiles = ["go/heap_01.pb.gz", "go/heap_02.pb.gz"];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>A fresh, empty store (skipped, or failed under CI=true, when its server cannot start).</summary>
    protected abstract Task<EngineUnderTest> OpenAsync();

    /// <summary>A second engine store on <paramref name="engine"/>'s data: another collector, or this one restarted.</summary>
    protected abstract IProfileEngineStore OpenAnotherStore(EngineUnderTest engine);

    [Fact]
    public async Task Merge_RandomRangesLabelsAndTypes_EqualsTheRawMerge()
    {
        await using var fixture = await CreateFixtureAsync();
        var random = new Random(1234);
        for (var i = 0; i < 40; i++)
        {
            var from = BaseTime.AddMinutes(random.Next(-30, 700)).AddSeconds(random.Next(60));
            var to = from.AddMinutes(random.Next(1, 800)).AddSeconds(random.Next(60));
            var type = random.Next(4) == 0 ? ProfileType.Heap : ProfileType.Cpu;
            IReadOnlyList<Label> labels = random.Next(3) switch
            {
                0 => [],
                1 => [new Label("pod", "p" + random.Next(3))],
                _ => [new Label("zone", "z" + random.Next(2))],
            };
            var query = new ProfileQuery("api", type, labels, from, to);

            var expected = await fixture.RawMergeAsync(query);
            var actual = await fixture.Querier.MergeAsync("", query, int.MaxValue, Token);

            if (expected is null)
            {
                Assert.Null(actual);
                continue;
            }

            Assert.NotNull(actual);
            Assert.Equal(expected.Value.Count, actual.Profiles);
            Assert.Equal(StackValues.Totals(expected.Value.Profile), StackValues.Totals(actual.Profile));
            StackValues.AssertSame(StackValues.Of(expected.Value.Profile), StackValues.Of(actual.Profile));
            Assert.Equal(expected.Value.Profile.DurationNanos, actual.Profile.DurationNanos);
        }
    }

    [Fact]
    public async Task Merge_OverSeveralDays_EqualsTheRawMergeWithDayRollups()
    {
        await using var fixture = await CreateFixtureAsync(minutes: 4 * 1440, step: 97);
        var random = new Random(5);
        var day = new DateTime(2026, 3, 2, 0, 0, 0, DateTimeKind.Utc);
        var ranges = new List<(DateTime, DateTime)> { (day, day.AddDays(2).AddTicks(-1)), (day.AddHours(-5), day.AddDays(1).AddHours(3)), (BaseTime, BaseTime.AddDays(4)) };
        for (var i = 0; i < 6; i++)
        {
            var from = BaseTime.AddMinutes(random.Next(0, 3 * 1440));
            ranges.Add((from, from.AddMinutes(random.Next(1440, 3 * 1440))));
        }

        foreach (var (from, to) in ranges)
        {
            var query = new ProfileQuery("api", ProfileType.Cpu, random.Next(2) == 0 ? [] : [new Label("pod", "p1")], from, to);
            var expected = await fixture.RawMergeAsync(query);
            var actual = await fixture.Querier.MergeAsync("", query, int.MaxValue, Token);
            Assert.NotNull(expected);
            Assert.NotNull(actual);
            Assert.Equal(expected.Value.Count, actual.Profiles);
            StackValues.AssertSame(StackValues.Of(expected.Value.Profile), StackValues.Of(actual.Profile));
        }

        // Retention through a day keeps its day rollup equal to what is left.
        var cutoff = day.AddHours(13);
        await fixture.Engine.Retention.DeleteProfilesStoredBeforeAsync(cutoff, Token);
        await new EngineRetention(fixture.Catalog, fixture.EngineStore).DeleteStoredBeforeAsync(cutoff, Token);
        var whole = new ProfileQuery("api", ProfileType.Cpu, [], day, day.AddDays(2).AddTicks(-1));
        var left = await fixture.RawMergeAsync(whole);
        var merged = await fixture.Querier.MergeAsync("", whole, 0, Token);
        Assert.Equal(left!.Value.Count, merged!.Profiles);
        StackValues.AssertSame(StackValues.Of(left.Value.Profile), StackValues.Of(merged.Profile));
    }

    [Fact]
    public async Task Merge_WholeHours_ReadsRollupsNotRows()
    {
        await using var fixture = await CreateFixtureAsync();
        var from = new DateTime(2026, 3, 1, 10, 0, 0, DateTimeKind.Utc);
        var query = new ProfileQuery("api", ProfileType.Cpu, [], from, from.AddHours(6).AddTicks(-1));

        var merge = await fixture.Querier.MergeAsync("", query, 0, Token);

        Assert.NotNull(merge);
        Assert.Equal(0, merge.RowsRead);
        Assert.Equal((await fixture.RawMergeAsync(query))!.Value.Count, merge.Profiles);
        await Assert.ThrowsAsync<EngineRowLimitException>(() => fixture.Querier.MergeAsync("", query with { From = from.AddMinutes(1) }, 3, Token));
    }

    [Fact]
    public async Task TimeSeries_GroupedByPod_SumsTheProfilesTotals()
    {
        await using var fixture = await CreateFixtureAsync();
        var random = new Random(99);
        foreach (var step in (TimeSpan[])[TimeSpan.FromHours(1), TimeSpan.FromMinutes(25), TimeSpan.FromHours(3)])
        {
            var from = BaseTime.AddMinutes(random.Next(-20, 200));
            var to = from.AddHours(random.Next(2, 12));
            var series = await fixture.Querier.SeriesAsync("", "api", ProfileType.Cpu, [], from, to, step, "pod", Token);

            var metas = await fixture.Engine.Reader.FindProfilesAsync(TenantId.Default, new ProfileQuery("api", ProfileType.Cpu, [], from, to), Token);
            var expected = new Dictionary<(string, long), long>();
            foreach (var meta in metas)
            {
                var profile = await fixture.DecodeAsync(meta.ProfileId);
                var key = (meta.Labels.First(static l => l.Key == "pod").Value, (meta.CreatedAt - from).Ticks / step.Ticks);
                expected[key] = expected.GetValueOrDefault(key) + StackValues.Totals(profile)[1];
            }

            Assert.Equal(["samples/count", "cpu/nanoseconds"], series.SampleTypes);
            var actual = new Dictionary<(string, long), long>();
            foreach (var group in series.Groups)
            {
                for (var p = 0; p < group.Counts.Length; p++)
                {
                    if (group.Counts[p] > 0)
                    {
                        actual[(group.Group, p)] = group.Totals[(p * group.Width) + 1];
                    }
                }
            }

            Assert.Equal(expected.OrderBy(static e => e.Key), actual.OrderBy(static e => e.Key));
        }
    }

    [Fact]
    public async Task Get_RawBytesGone_RebuildsTheProfileSampleBySample()
    {
        await using var fixture = await CreateFixtureAsync();
        var metas = await fixture.Engine.Reader.FindProfilesAsync(TenantId.Default, new ProfileQuery("api", null, [], DateTime.MinValue, DateTime.MaxValue), Token);
        var meta = metas[17];
        var original = await fixture.DecodeAsync(meta.ProfileId);

        await fixture.Engine.Retention.DeleteProfilesStoredBeforeAsync(DateTime.MaxValue, Token);
        Assert.Empty(await fixture.Engine.Reader.FindProfilesAsync(TenantId.Default, new ProfileQuery("api", null, [], DateTime.MinValue, DateTime.MaxValue), Token));
        var rebuilt = await fixture.Querier.GetAsync("", meta.ProfileId, Token);

        Assert.NotNull(rebuilt);
        Assert.Equal((meta.ProfileId, meta.Type, meta.Service, meta.CreatedAt), (rebuilt.Value.Meta.ProfileId, rebuilt.Value.Meta.Type, rebuilt.Value.Meta.Service, rebuilt.Value.Meta.CreatedAt));
        Assert.Equal(meta.Labels, rebuilt.Value.Meta.Labels);
        Assert.Equal(StackValues.Samples(original), StackValues.Samples(rebuilt.Value.Profile));
        Assert.Equal(original.TimeNanos, rebuilt.Value.Profile.TimeNanos);
        Assert.Equal(original.Period, rebuilt.Value.Profile.Period);
    }

    [Fact]
    public async Task Retention_SameCutoffAsRaw_LeavesMergesEqualToTheRawMerge()
    {
        await using var fixture = await CreateFixtureAsync();
        var cutoff = BaseTime.AddHours(5).AddMinutes(13);
        var before = (await fixture.Engine.Reader.FindProfilesAsync(TenantId.Default, new ProfileQuery("api", null, [], DateTime.MinValue, DateTime.MaxValue), Token)).Count;

        var deletedRaw = await fixture.Engine.Retention.DeleteProfilesStoredBeforeAsync(cutoff, Token);
        var deletedEngine = await new EngineRetention(fixture.Catalog, fixture.EngineStore).DeleteStoredBeforeAsync(cutoff, Token);

        Assert.Equal(deletedRaw, deletedEngine);
        Assert.InRange(deletedRaw, 1, before - 1);
        foreach (var (from, to) in (ValueTuple<DateTime, DateTime>[])[(BaseTime, BaseTime.AddHours(12)), (cutoff.AddMinutes(-50), cutoff.AddMinutes(70)), (BaseTime.AddHours(5), BaseTime.AddHours(6))])
        {
            var query = new ProfileQuery("api", ProfileType.Cpu, [], from, to);
            var expected = await fixture.RawMergeAsync(query);
            var actual = await fixture.Querier.MergeAsync("", query, int.MaxValue, Token);
            Assert.Equal(expected?.Count, actual?.Profiles);
            if (expected is not null)
            {
                StackValues.AssertSame(StackValues.Of(expected.Value.Profile), StackValues.Of(actual!.Profile));
            }
        }
    }

    [Fact]
    public async Task Load_AnotherStoreOnTheSameData_AnswersAsTheOneThatCommitted()
    {
        await using var fixture = await CreateFixtureAsync();
        var store = OpenAnotherStore(fixture.Engine);
        try
        {
            var catalog = new EngineCatalog();
            catalog.Load(await store.LoadAsync(Token));
            var query = new ProfileQuery("api", ProfileType.Cpu, [new Label("pod", "p2")], BaseTime.AddMinutes(40), BaseTime.AddHours(7));

            var expected = await fixture.Querier.MergeAsync("", query, int.MaxValue, Token);
            var actual = await new EngineQuerier(catalog, store).MergeAsync("", query, int.MaxValue, Token);

            Assert.Equal(fixture.Catalog.Cursor, catalog.Cursor);
            Assert.Equal(fixture.Catalog.SeriesOf("").Count, catalog.SeriesOf("").Count);
            Assert.NotNull(expected);
            Assert.NotNull(actual);
            Assert.Equal(expected.Profiles, actual.Profiles);
            StackValues.AssertSame(StackValues.Of(expected.Profile), StackValues.Of(actual.Profile));
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public async Task ListAfter_TheCutterCursor_ListsTheServicesProfilesNotCutYet()
    {
        await using var fixture = await CreateFixtureAsync(minutes: 60);
        var cursor = fixture.Catalog.Cursor;
        var late = BaseTime.AddMinutes(30);
        await fixture.PushAsync(ProfileType.Cpu, CpuFiles[0], 1, late);
        await fixture.PushAsync(ProfileType.Heap, HeapFiles[0], 2, late.AddMinutes(1));
        await fixture.Engine.Writer.WriteProfileAsync(new ProfileMeta(ProfileId.NewId(late), ProfileType.Cpu, "web", [], late), TestData.Read(CpuFiles[1]), Token);

        var listed = await fixture.Engine.Log.ListAfterAsync(cursor, TenantId.Default, "api", 100, Token);

        Assert.Equal([(ProfileType.Cpu, late, "p1"), (ProfileType.Heap, late.AddMinutes(1), "p2")], listed.Select(static m => (m.Type, m.CreatedAt, m.Labels[0].Value)));
        Assert.Empty(await fixture.Engine.Log.ListAfterAsync(cursor, TenantId.FromKey("other"), "api", 100, Token));
        Assert.Single(await fixture.Engine.Log.ListAfterAsync(cursor, TenantId.Default, "api", 1, Token));
    }

    [Fact]
    public async Task Merge_ProfilesNotCutYet_AddsThemRawWithoutWaitingForTheCutter()
    {
        await using var fixture = await CreateFixtureAsync(minutes: 240);

        // An engine that loaded everything the fixture cut and then stopped cutting: whatever is pushed now stays
        // uncut, and with no catch-up time and a merge cap far below the raw matches, only the engine's blocks plus
        // the uncut profiles can answer.
        var options = new EngineOptions { CatchUpTimeout = TimeSpan.Zero };
        using var engine = new ProfileEngine(fixture.EngineStore, fixture.Engine.Log, Options.Create(options), NullLogger<ProfileEngine>.Instance);
        await engine.StartAsync(Token);
        while (!await engine.CatchUpAsync(Token))
        {
            await Task.Delay(20, Token);
        }

        await engine.StopAsync(Token);
        var cursor = engine.Cursor;
        await fixture.PushAsync(ProfileType.Cpu, CpuFiles[2], 0, BaseTime.AddMinutes(12));
        await fixture.PushAsync(ProfileType.Cpu, CpuFiles[3], 1, BaseTime.AddMinutes(130));
        await fixture.PushAsync(ProfileType.Cpu, CpuFiles[4], 2, BaseTime.AddHours(9));
        await fixture.PushAsync(ProfileType.Heap, HeapFiles[1], 1, BaseTime.AddHours(9));
        var querier = new ProfileQuerier(fixture.Engine.Reader, Options.Create(new CollectorOptions { MaxMergeProfiles = 20 }), NullLogger<ProfileQuerier>.Instance, engine);
        var hour = new DateTime(2026, 3, 1, 9, 0, 0, DateTimeKind.Utc);
        foreach (var query in (ProfileQuery[])[
            new("api", ProfileType.Cpu, [], hour, hour.AddHours(5).AddTicks(-1)),
            new("api", ProfileType.Cpu, [new Label("pod", "p1")], hour.AddHours(1), hour.AddHours(3).AddTicks(-1)),
            new("api", ProfileType.Cpu, [], hour.AddHours(9), hour.AddHours(10).AddTicks(-1)),
            new("api", ProfileType.Heap, [new Label("zone", "z1")], hour, hour.AddHours(19))])
        {
            var expected = await fixture.RawMergeAsync(query);
            var actual = await querier.MergeProfilesAsync(TenantId.Default, query, Token);

            Assert.NotNull(expected);
            Assert.Equal(StackValues.Totals(expected.Value.Profile), StackValues.Totals(actual));
            StackValues.AssertSame(StackValues.Of(expected.Value.Profile), StackValues.Of(actual));
        }

        // A time series too: the engine's totals plus the uncut profiles' (the fallback, waiting for the cutter, would 503).
        var (from, to) = (hour.AddMinutes(-30), hour.AddHours(10));
        var series = await querier.GetTimeSeriesAsync(TenantId.Default, "api", ProfileType.Cpu, [], from, to, TimeSpan.FromMinutes(50), "pod", Token);
        var expectedTotals = new Dictionary<(string, long), (long, long)>();
        foreach (var meta in await fixture.Engine.Reader.FindProfilesAsync(TenantId.Default, new ProfileQuery("api", ProfileType.Cpu, [], from, to), Token))
        {
            var key = (meta.Labels.First(static l => l.Key == "pod").Value, (meta.CreatedAt - from).Ticks / TimeSpan.FromMinutes(50).Ticks);
            var (count, total) = expectedTotals.GetValueOrDefault(key);
            expectedTotals[key] = (count + 1, total + StackValues.Totals(await fixture.DecodeAsync(meta.ProfileId))[1]);
        }

        var actualTotals = new Dictionary<(string, long), (long, long)>();
        foreach (var group in series.Groups)
        {
            for (var p = 0; p < group.Counts.Length; p++)
            {
                if (group.Counts[p] > 0)
                {
                    actualTotals[(group.Group, p)] = (group.Counts[p], group.Totals[(p * group.Width) + 1]);
                }
            }
        }

        Assert.Equal(expectedTotals.OrderBy(static e => e.Key), actualTotals.OrderBy(static e => e.Key));
        Assert.Equal(cursor, engine.Cursor);
        await Assert.ThrowsAsync<ProfileRequestException>(() => querier.MergeProfilesAsync(TenantId.Default, new ProfileQuery("api", ProfileType.Cpu, [], hour.AddMinutes(1), hour.AddHours(5)), Token));
    }

    [Fact]
    public async Task ReplaceBlocks_SameBlocksTwice_KeepsTheFirstReplacementOnly()
    {
        await using var fixture = await CreateFixtureAsync();
        var fragmented = await fixture.EngineStore.ListFragmentedBucketsAsync(100, Token);
        Assert.NotEmpty(fragmented);
        var (series, bucket) = fragmented[0];
        var blocks = await fixture.EngineStore.ReadBlocksAsync(series, bucket, Token);
        var rows = blocks.SelectMany(static b => ProfileBlockCodec.Decode(b.Data)).ToList();
        rows.Sort(BlockCutter.CompareByTime);
        var merged = new NewBlock(series, bucket, rows.Count, rows[0].CreatedAt.Ticks, rows[^1].CreatedAt.Ticks, ProfileBlockCodec.Encode(rows));
        var ids = blocks.Select(static b => b.Id).ToList();

        await fixture.EngineStore.ReplaceBlocksAsync([new BlockReplacement(ids, merged)], Token);
        await fixture.EngineStore.ReplaceBlocksAsync([new BlockReplacement(ids, merged)], Token);

        var after = await fixture.EngineStore.ReadBlocksAsync(series, bucket, Token);
        Assert.Single(after);
        Assert.Equal(rows.Count, after[0].Count);
        Assert.Equal(rows.Select(static r => r.Id), ProfileBlockCodec.Decode(after[0].Data).Select(static r => r.Id));
    }

    [Fact]
    public async Task ReadBlocks_OneOfACutsBlocks_ReturnsExactlyItsBytes()
    {
        var engine = await OpenAsync();
        await using var owner = engine.Owner;
        await engine.Store.LoadAsync(Token);
        var hour = EngineCatalog.BucketOf(BaseTime.Ticks);
        var random = new Random(7);
        var blocks = new List<NewBlock>();
        foreach (var (series, bucket) in new[] { (1, hour), (1, hour + EngineCatalog.BucketTicks), (2, hour), (2, hour + (3 * EngineCatalog.BucketTicks)) })
        {
            var data = new byte[random.Next(1, 5_000)];
            random.NextBytes(data);
            blocks.Add(new NewBlock(series, bucket, 1, bucket, bucket, data));
        }

        await engine.Store.CommitAsync(new EngineCommit(
            Cursor: 1,
            NewSeries: [new EngineSeries(1, "", "api", ProfileType.Cpu, []), new EngineSeries(2, "", "api", ProfileType.Cpu, [new Label("pod", "p1")])],
            SymbolDeltas: [],
            Blocks: blocks,
            Rollups: [],
            Profiles: []), Token);

        foreach (var block in blocks)
        {
            var read = Assert.Single(await engine.Store.ReadBlocksAsync(block.Series, block.Bucket, Token));
            Assert.Equal(block.Data, read.Data);
        }

        Assert.Empty(await engine.Store.ReadBlocksAsync(1, hour + (2 * EngineCatalog.BucketTicks), Token));
    }

    [Fact]
    public async Task ReadBlocks_SeveralSeriesAtOnce_ReturnsEachSeriesBlocksInTheOrderAsked()
    {
        var engine = await OpenAsync();
        await using var owner = engine.Owner;
        await engine.Store.LoadAsync(Token);
        var hour = EngineCatalog.BucketOf(BaseTime.Ticks);
        var random = new Random(11);
        var blocks = new List<NewBlock>();
        foreach (var (series, bucket) in new[] { (1, hour), (2, hour), (2, hour), (1, hour + EngineCatalog.BucketTicks), (3, hour) })
        {
            var data = new byte[random.Next(1, 5_000)];
            random.NextBytes(data);
            blocks.Add(new NewBlock(series, bucket, 1, bucket, bucket, data));
        }

        await engine.Store.CommitAsync(new EngineCommit(
            Cursor: 1,
            NewSeries: [new EngineSeries(1, "", "api", ProfileType.Cpu, []), new EngineSeries(2, "", "api", ProfileType.Cpu, [new Label("pod", "p1")]),
                new EngineSeries(3, "", "api", ProfileType.Cpu, [new Label("pod", "p2")])],
            SymbolDeltas: [],
            Blocks: blocks,
            Rollups: [],
            Profiles: []), Token);

        // Twice: the second read may come from a cache and must be the same.
        for (var read = 0; read < 2; read++)
        {
            var both = await engine.Store.ReadBlocksAsync([2, 4, 1], hour, Token);
            Assert.Equal([2, 2, 1], both.Select(static b => b.Series));
            Assert.Equal([blocks[1].Data, blocks[2].Data, blocks[0].Data], both.Select(static b => b.Data));
            Assert.All(both, b => Assert.Equal(hour, b.Bucket));
            Assert.Equal((await engine.Store.ReadBlocksAsync(2, hour, Token)).Select(static b => b.Id), both.Take(2).Select(static b => b.Id));
        }

        Assert.Empty(await engine.Store.ReadBlocksAsync([1, 2, 3], hour + (2 * EngineCatalog.BucketTicks), Token));
        Assert.Empty(await engine.Store.ReadBlocksAsync([], hour, Token));
    }

    private async Task<EngineFixture> CreateFixtureAsync(int minutes = 660, int step = 7) =>
        await EngineFixture.CreateAsync(await OpenAsync(), minutes, step);

    /// <summary>
    /// A store with 3 pods' CPU profiles every 7 minutes and heap profiles every 20 over ~11 hours, cut into the
    /// engine in small batches with compactions between, and a few late profiles stored after their hour was cut.
    /// </summary>
    protected sealed class EngineFixture : IAsyncDisposable
    {
        private EngineFixture(EngineUnderTest engine, EngineCatalog catalog)
        {
            Engine = engine;
            Catalog = catalog;
            Querier = new EngineQuerier(catalog, engine.Store);
        }

        public EngineUnderTest Engine { get; }

        public EngineCatalog Catalog { get; }

        public IProfileEngineStore EngineStore => Engine.Store;

        public EngineQuerier Querier { get; }

        public static async Task<EngineFixture> CreateAsync(EngineUnderTest engine, int minutes, int step)
        {
            var catalog = new EngineCatalog();
            catalog.Load(await engine.Store.LoadAsync(Token));
            var fixture = new EngineFixture(engine, catalog);
            var cutter = new BlockCutter(catalog, engine.Store, engine.Log, batch: 25);
            var compactor = new BlockCompactor(engine.Store);
            var n = 0;
            for (var minute = 0; minute < minutes; minute += step)
            {
                for (var pod = 0; pod < 3; pod++)
                {
                    await fixture.PushAsync(ProfileType.Cpu, CpuFiles[n++ % CpuFiles.Length], pod, BaseTime.AddMinutes(minute).AddSeconds(pod * 11));
                    if (minute % 20 < 7)
                    {
                        await fixture.PushAsync(ProfileType.Heap, HeapFiles[n % HeapFiles.Length], pod, BaseTime.AddMinutes(minute).AddSeconds(pod));
                    }
                }

                if (minute % (step * 20) == 0)
                {
                    while (await cutter.CutAsync(Token) > 0)
                    {
                    }

                    await compactor.CompactAsync(100, Token);
                }
            }

            // Late arrivals into hours already cut: their rollups must be rebuilt in time order.
            await fixture.PushAsync(ProfileType.Cpu, CpuFiles[0], 1, BaseTime.AddMinutes(3));
            await fixture.PushAsync(ProfileType.Cpu, CpuFiles[1], 2, BaseTime.AddMinutes(95));
            while (await cutter.CutAsync(Token) > 0)
            {
            }

            return fixture;
        }

        public async Task PushAsync(ProfileType type, string file, int pod, DateTime createdAt)
        {
            var meta = new ProfileMeta(ProfileId.NewId(createdAt), type, "api", [new Label("pod", "p" + pod), new Label("zone", "z" + (pod % 2))], createdAt);
            await Engine.Writer.WriteProfileAsync(meta, TestData.Read(file), Token);
        }

        public async Task<Profile> DecodeAsync(ProfileId id)
        {
            await foreach (var stored in Engine.Reader.ListProfilesAsync(TenantId.Default, [id], Token))
            {
                return ProfileDecoder.Decode(stored.Data.Span);
            }

            throw new InvalidOperationException("no such profile");
        }

        public async Task<(Profile Profile, int Count)?> RawMergeAsync(ProfileQuery query)
        {
            var metas = await Engine.Reader.FindProfilesAsync(TenantId.Default, query, Token);
            if (metas.Count == 0)
            {
                return null;
            }

            var profiles = new List<Profile>();
            foreach (var meta in metas)
            {
                profiles.Add(await DecodeAsync(meta.ProfileId));
            }

            return (ProfileMerger.Merge(profiles), metas.Count);
        }

        public ValueTask DisposeAsync() => Engine.Owner.DisposeAsync();
    }
}
