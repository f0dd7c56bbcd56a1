using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Profefe.Pprof;
using Profefe.Testing;

namespace Profefe.Core.Tests;

public sealed class ProfileCollectorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 5, 0, 0, TimeSpan.Zero);

    private readonly InMemoryProfileStore _store = new();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Collect_KeepsTheBytesVerbatim_AndTakesCreatedAtFromTimeNanos_WhenTheProfileIsValid()
    {
        var data = TestData.Read("profefe/collector_cpu_1.prof");

        var meta = await Collector().CollectAsync(Parameters(ProfileType.Cpu, createdAt: new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc)), data, Cancel);

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

        var fromQuery = await Collector().CollectAsync(Parameters(ProfileType.Heap, createdAt: given), data, Cancel);
        var fromClock = await Collector().CollectAsync(Parameters(ProfileType.Heap), data, Cancel);

        Assert.Equal(given, fromQuery.CreatedAt);
        Assert.Equal(Now.UtcDateTime, fromClock.CreatedAt);
    }

    [Fact]
    public async Task Collect_StoresAConvertedProfile_WhenTheInputIsALegacyFormat()
    {
        var legacy = TestData.Read("pprof-thirdparty/google-pprof/internal__driver__testdata__cppbench.contention");

        await Collector().CollectAsync(Parameters(ProfileType.Mutex), legacy, Cancel);

        var stored = _store.Profiles.Single().Data.ToArray();
        Assert.Equal([0x1f, 0x8b], stored[..2]);
        Assert.Equal(ProfileDecoder.Decode(legacy).Samples.Count, ProfileDecoder.Decode(stored).Samples.Count);
    }

    [Fact]
    public async Task Collect_StoresTracesUnparsed()
    {
        var data = "not really a trace"u8.ToArray();

        var meta = await Collector().CollectAsync(Parameters(ProfileType.Trace), data, Cancel);

        Assert.Equal(data, _store.Profiles.Single().Data.ToArray());
        Assert.Equal(Now.UtcDateTime, meta.CreatedAt);
    }

    [Theory]
    [InlineData("", "malformed profile (could not parse pprof profile: parsing profile: empty input file)")]
    [InlineData("this is not a pprof profile", "malformed profile (could not parse pprof profile: parsing profile: unrecognized profile format)")]
    public async Task Collect_Throws400WithProfefesText_AndStoresNothing_WhenTheBodyIsNotAProfile(string body, string message)
    {
        var error = await Assert.ThrowsAsync<ProfileRequestException>(
            () => Collector().CollectAsync(Parameters(ProfileType.Cpu), System.Text.Encoding.UTF8.GetBytes(body), Cancel));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal(message, error.Message);
        Assert.Empty(_store.Profiles);
    }

    [Fact]
    public async Task Collect_Throws400_WhenGzipInflatesPastTheLimit()
    {
        var collector = Collector(new CollectorOptions { MaxDecompressedBytes = 10_000 });

        var error = await Assert.ThrowsAsync<ProfileRequestException>(
            () => collector.CollectAsync(Parameters(ProfileType.Cpu), TestData.Read("profefe/collector_cpu_1.prof"), Cancel));

        Assert.Equal(400, error.StatusCode);
        Assert.StartsWith("malformed profile (could not parse pprof profile: ", error.Message, StringComparison.Ordinal);
        Assert.Empty(_store.Profiles);
    }

    private static CollectParameters Parameters(ProfileType type, DateTime? createdAt = null) =>
        new("svc1", type, [new Label("region", "eu")], createdAt);

    private ProfileCollector Collector(CollectorOptions? options = null) =>
        new(_store, Options.Create(options ?? new CollectorOptions()), new FixedTimeProvider(Now), NullLogger<ProfileCollector>.Instance);

    private sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
