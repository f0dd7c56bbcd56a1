using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Profefe.Core.Ingest;
using Profefe.Core.Limits;
using Profefe.Core.Profiles;
using Profefe.Core.Tenancy;
using Profefe.Pprof;
using Profefe.Testing;

namespace Profefe.Core.Tests.Ingest;

public sealed class ProfileCollectorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 5, 0, 0, TimeSpan.Zero);

    private readonly InMemoryProfileStore _store = new();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Collect_KeepsTheBytesVerbatim_AndTakesCreatedAtFromTimeNanos_WhenTheProfileIsValid()
    {
        var data = TestData.Read("profefe/collector_cpu_1.prof");

        var meta = await Collector().CollectAsync(TenantId.Default, Parameters(ProfileType.Cpu, createdAt: new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc)), data, Cancel);

        Assert.Equal(data, _store.Profiles.Single().Data.ToArray());
        Assert.Equal(new DateTime(2019, 5, 30, 21, 10, 5, DateTimeKind.Utc), meta.CreatedAt.AddTicks(-(meta.CreatedAt.Ticks % TimeSpan.TicksPerSecond)));
        Assert.Equal(Now.UtcDateTime.AddTicks(-(Now.Ticks % TimeSpan.TicksPerSecond)), meta.ProfileId.Timestamp);
        Assert.Equal(meta, _store.Profiles.Single().Meta);
    }

    [Fact]
    public async Task Collect_TakesCreatedAtFromTheQuery_ThenTheClock_WhenTheProfileHasNoTime()
    {
        var profile = ProfileDecoder.Decode(TestData.Read("profefe/collector_heap_1.prof"));
        profile.TimeNanos = 0;
        var data = ProfileEncoder.EncodeToArray(profile);
        var given = new DateTime(2019, 6, 1, 10, 20, 30, DateTimeKind.Utc);

        var fromQuery = await Collector().CollectAsync(TenantId.Default, Parameters(ProfileType.Heap, createdAt: given), data, Cancel);
        var fromClock = await Collector().CollectAsync(TenantId.Default, Parameters(ProfileType.Heap), data, Cancel);

        Assert.Equal(given, fromQuery.CreatedAt);
        Assert.Equal(Now.UtcDateTime, fromClock.CreatedAt);
    }

    [Fact]
    public async Task Collect_StoresAConvertedProfile_WhenTheInputIsALegacyFormat()
    {
        var legacy = TestData.Read("pprof-thirdparty/google-pprof/internal__driver__testdata__cppbench.contention");

        await Collector().CollectAsync(TenantId.Default, Parameters(ProfileType.Mutex), legacy, Cancel);

        var stored = _store.Profiles.Single().Data.ToArray();
        Assert.Equal([0x1f, 0x8b], stored[..2]);
        Assert.Equal(ProfileDecoder.Decode(legacy).Samples.Count, ProfileDecoder.Decode(stored).Samples.Count);
    }

    [Fact]
    public async Task Collect_StoresTracesUnparsed()
    {
        var data = "not really a trace"u8.ToArray();

        var meta = await Collector().CollectAsync(TenantId.Default, Parameters(ProfileType.Trace), data, Cancel);

        Assert.Equal(data, _store.Profiles.Single().Data.ToArray());
        Assert.Equal(Now.UtcDateTime, meta.CreatedAt);
    }

    [Theory]
    [InlineData("", "malformed profile (could not parse pprof profile: parsing profile: empty input file)")]
    [InlineData("this is not a pprof profile", "malformed profile (could not parse pprof profile: parsing profile: unrecognized profile format)")]
    public async Task Collect_Throws400WithProfefesText_AndStoresNothing_WhenTheBodyIsNotAProfile(string body, string message)
    {
        var error = await Assert.ThrowsAsync<ProfileRequestException>(
            () => Collector().CollectAsync(TenantId.Default, Parameters(ProfileType.Cpu), System.Text.Encoding.UTF8.GetBytes(body), Cancel));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal(message, error.Message);
        Assert.Empty(_store.Profiles);
    }

    [Fact]
    public async Task Collect_Throws413NamingTheLimit_WhenGzipInflatesPastTheLimit()
    {
        var collector = Collector(new CollectorOptions { MaxDecompressedBytes = 10_000 });

        var error = await Assert.ThrowsAsync<ProfileRequestException>(
            () => collector.CollectAsync(TenantId.Default, Parameters(ProfileType.Cpu), TestData.Read("profefe/collector_cpu_1.prof"), Cancel));

        Assert.Equal(413, error.StatusCode);
        Assert.Equal("Collector:MaxDecompressedBytes", error.Limit);
        Assert.Equal(
            "profile over a limit: decompressing profile: decompressed size exceeds the limit of 10000 bytes (Collector:MaxDecompressedBytes)",
            error.Message);
        Assert.Empty(_store.Profiles);
    }

    [Fact]
    public async Task Collect_AcceptsEveryCorpusProfile_UnderTheDefaultLimits()
    {
        // Each profile the corpus says profefe stores, pushed as the type profefe's agent used: none may trip a
        // default limit or the type check (the biggest, a Go heap profile, has 62,117 samples).
        var rows = File.ReadAllLines(TestData.PathOf("MANIFEST.tsv")).Skip(1).Select(static line => line.Split('\t'))
            .Where(static fields => fields[12] == "200").ToList();
        Assert.True(rows.Count > 90, $"only {rows.Count} corpus profiles");
        var collector = Collector();

        foreach (var fields in rows)
        {
            var type = ProfileTypeNames.Parse(fields[1]);
            await collector.CollectAsync(TenantId.Default, new CollectParameters("svc1", type, [], null), TestData.Read(fields[0]), Cancel);
        }

        Assert.Equal(rows.Count, _store.Profiles.Count);
    }

    [Theory]
    [InlineData("go/big_cpu_01.pb.gz")]
    [InlineData("pprof-thirdparty/google-pprof/profile__testdata__cppbench.cpu")]
    public async Task Collect_Throws400NamingTheLimit_WhenTheProfileHasMoreSamplesThanTheLimit(string file)
    {
        var collector = Collector(new CollectorOptions { MaxSamplesPerProfile = 20 });

        var error = await Assert.ThrowsAsync<ProfileRequestException>(
            () => collector.CollectAsync(TenantId.Default, Parameters(ProfileType.Other), TestData.Read(file), Cancel));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("Collector:MaxSamplesPerProfile", error.Limit);
        Assert.Equal("profile over a limit: profile has more than 20 samples (Collector:MaxSamplesPerProfile)", error.Message);
        Assert.Empty(_store.Profiles);
    }

    [Fact]
    public async Task Collect_Throws400NamingTheLimit_WhenAStackIsDeeperThanTheLimit()
    {
        var collector = Collector(new CollectorOptions { MaxStackDepth = 3 });

        var error = await Assert.ThrowsAsync<ProfileRequestException>(
            () => collector.CollectAsync(TenantId.Default, Parameters(ProfileType.Cpu), TestData.Read("go/cpu_json_01.pb.gz"), Cancel));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("Collector:MaxStackDepth", error.Limit);
        Assert.StartsWith("profile over a limit: profile has a stack of ", error.Message, StringComparison.Ordinal);
        Assert.Empty(_store.Profiles);
    }

    [Theory]
    [InlineData("go/heap_01.pb.gz", ProfileType.Cpu, "alloc_objects", "heap")]
    [InlineData("go/cpu_json_01.pb.gz", ProfileType.Heap, "samples", "cpu")]
    [InlineData("go/goroutine_01.pb.gz", ProfileType.Mutex, "goroutine", "goroutine")]
    [InlineData("go/block_01.pb.gz", ProfileType.Threadcreate, "contentions", "block")]
    public async Task Collect_Throws400_WhenTheSampleTypesContradictTheType(string file, ProfileType type, string sampleType, string owner)
    {
        var error = await Assert.ThrowsAsync<ProfileRequestException>(
            () => Collector().CollectAsync(TenantId.Default, Parameters(type), TestData.Read(file), Cancel));

        Assert.Equal(400, error.StatusCode);
        Assert.StartsWith(
            $"bad request: profile pushed as type={ProfileTypeNames.ToWireName(type)} has sample type \"{sampleType}\" of a {owner} profile ",
            error.Message,
            StringComparison.Ordinal);
        Assert.Empty(_store.Profiles);
    }

    [Theory]
    [InlineData("go/mutex_01.pb.gz", ProfileType.Block)]
    [InlineData("go/heap_01.pb.gz", ProfileType.Other)]
    [InlineData("pprof-thirdparty/parca/pkg__query__testdata__fgprof.pb.gz", ProfileType.Cpu)]
    public async Task Collect_Stores_WhenTheSampleTypesFitTheTypeOrNoTypeClaimsThem(string file, ProfileType type)
    {
        await Collector().CollectAsync(TenantId.Default, Parameters(type), TestData.Read(file), Cancel);

        Assert.Single(_store.Profiles);
    }

    [Fact]
    public async Task Collect_Throws400NamingTheLimit_WhenLabelsAreTooManyOrTooLong()
    {
        var collector = Collector(new CollectorOptions { MaxLabelsPerProfile = 2, MaxLabelNameLength = 5, MaxLabelValueLength = 6 });
        var data = TestData.Read("profefe/collector_cpu_1.prof");

        var tooMany = await Assert.ThrowsAsync<ProfileRequestException>(() => collector.CollectAsync(TenantId.Default,
            new CollectParameters("svc1", ProfileType.Cpu, [new("a", "1"), new("b", "2"), new("c", "3")], null), data, Cancel));
        var longKey = await Assert.ThrowsAsync<ProfileRequestException>(() => collector.CollectAsync(TenantId.Default,
            new CollectParameters("svc1", ProfileType.Cpu, [new("region", "eu")], null), data, Cancel));
        var longValue = await Assert.ThrowsAsync<ProfileRequestException>(() => collector.CollectAsync(TenantId.Default,
            new CollectParameters("svc1", ProfileType.Cpu, [new("dc", "europe1")], null), data, Cancel));
        await collector.CollectAsync(TenantId.Default, new CollectParameters("svc1", ProfileType.Cpu, [new("dc", "eu"), new("zone", "eu-1a")], null), data, Cancel);

        Assert.Equal(("Collector:MaxLabelsPerProfile", "bad request: 3 labels, more than the limit of 2 (Collector:MaxLabelsPerProfile)"), (tooMany.Limit, tooMany.Message));
        Assert.Equal(("Collector:MaxLabelNameLength", "bad request: label key of 6 characters, longer than the limit of 5 (Collector:MaxLabelNameLength)"), (longKey.Limit, longKey.Message));
        Assert.Equal(("Collector:MaxLabelValueLength", "bad request: value of label \"dc\" has 7 characters, more than the limit of 6 (Collector:MaxLabelValueLength)"), (longValue.Limit, longValue.Message));
        Assert.Single(_store.Profiles);
    }

    [Fact]
    public async Task Collect_Throws400_WhenALabelKeyWouldGetMoreDistinctValuesThanTheLimit_CountingStoredValues()
    {
        var data = TestData.Read("profefe/collector_cpu_1.prof");
        await Collector().CollectAsync(TenantId.Default, new CollectParameters("svc1", ProfileType.Cpu, [new("pod", "p1")], null), data, Cancel);
        using var tracker = new LabelValueTracker(_store);
        var collector = Collector(new CollectorOptions { MaxLabelValuesPerKey = 2 }, tracker);

        await collector.CollectAsync(TenantId.Default, new CollectParameters("svc1", ProfileType.Cpu, [new("pod", "p2")], null), data, Cancel);
        await collector.CollectAsync(TenantId.Default, new CollectParameters("svc1", ProfileType.Cpu, [new("pod", "p1"), new("zone", "a")], null), data, Cancel);
        var error = await Assert.ThrowsAsync<ProfileRequestException>(() => collector.CollectAsync(TenantId.Default,
            new CollectParameters("svc1", ProfileType.Cpu, [new("pod", "p3")], null), data, Cancel));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("Collector:MaxLabelValuesPerKey", error.Limit);
        Assert.StartsWith("bad request: label \"pod\" already has 2 distinct values, the limit (Collector:MaxLabelValuesPerKey)", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, _store.Profiles.Count);
    }

    private static CollectParameters Parameters(ProfileType type, DateTime? createdAt = null) =>
        new("svc1", type, [new Label("region", "eu")], createdAt);

    private ProfileCollector Collector(CollectorOptions? options = null, LabelValueTracker? labelValues = null) =>
        new(_store, Options.Create(options ?? new CollectorOptions()), new FakeTimeProvider(Now), NullLogger<ProfileCollector>.Instance, labelValues);
}
