using System.Net.Http.Headers;
using System.Text;
using Profefe.Pprof;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Server.Tests.Pyroscope;

/// <summary>Pyroscope's /ingest in each format its SDKs send, read back through profefe's API.</summary>
public sealed class PyroscopeIngestTests
{
    private const long From = 1_765_000_000;
    private const long Until = From + 10;
    private const long TenMillisecondsInNanoseconds = 10_000_000;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Ingest_StoresFoldedStacksAsCpuNanoseconds_WhenNameHasNoSuffix()
    {
        await using var collector = await TestCollector.StartAsync();
        var folded = "main;work;hot 30\nmain;work;hot 5\nmain;idle 10\n\n";

        using var response = await PyroscopeClient.IngestAsync(collector.Client, $"name=shop{{env=test,pod=a-1}}&from={From}&until={Until}&spyName=gospy", Text(folded));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync(Cancel));
        var stored = Assert.Single(await StoredProfiles.FindAsync(collector.Client, "shop"));
        Assert.Equal("cpu", stored.Type);
        Assert.Equal(new Dictionary<string, string> { ["env"] = "test", ["pod"] = "a-1", ["pyroscope_spy"] = "gospy" }, stored.Labels);
        Assert.Equal(DateTime.UnixEpoch.AddSeconds(From), stored.CreatedAt);
        var profile = await StoredProfiles.DownloadAsync(collector.Client, stored.Id);
        var cpu = StoredProfiles.IndexOf(profile, "cpu", "nanoseconds");
        Assert.Equal(new SampleType("cpu", "nanoseconds"), profile.PeriodType);
        Assert.Equal(TenMillisecondsInNanoseconds, profile.Period);
        Assert.Equal(
            new Dictionary<string, long> { ["main;work;hot"] = 35 * TenMillisecondsInNanoseconds, ["main;idle"] = 10 * TenMillisecondsInNanoseconds },
            StoredProfiles.Stacks(profile, cpu));
    }

    [Fact]
    public async Task Ingest_CountsEachLineOnce_WhenFormatIsLines()
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await PyroscopeClient.IngestAsync(collector.Client, $"name=shop.wall&from={From}&until={Until}&sampleRate=50&format=lines", Text("a;b\na;b\na;c\n"));

        Assert.Equal(200, (int)response.StatusCode);
        var stored = Assert.Single(await StoredProfiles.FindAsync(collector.Client, "shop"));
        Assert.Equal("other", stored.Type);
        Assert.Equal("wall", stored.Labels["__name__"]);
        var profile = await StoredProfiles.DownloadAsync(collector.Client, stored.Id);
        var wall = StoredProfiles.IndexOf(profile, "wall", "nanoseconds");
        Assert.Equal(new Dictionary<string, long> { ["a;b"] = 2 * 20_000_000, ["a;c"] = 20_000_000 }, StoredProfiles.Stacks(profile, wall));
    }

    [Theory]
    [InlineData("alloc_space", "bytes")]
    [InlineData("inuse_objects", "count")]
    public async Task Ingest_StoresMemoryKinds_WhenNameSuffixNamesThem(string suffix, string unit)
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await PyroscopeClient.IngestAsync(collector.Client, $"name=shop.{suffix}&from={From}&until={Until}", Text("main;alloc 4096\n"));

        Assert.Equal(200, (int)response.StatusCode);
        var stored = Assert.Single(await StoredProfiles.FindAsync(collector.Client, "shop"));
        Assert.Equal("heap", stored.Type);
        var profile = await StoredProfiles.DownloadAsync(collector.Client, stored.Id);
        Assert.Equal(4096, StoredProfiles.Total(profile, StoredProfiles.IndexOf(profile, suffix, unit)));
    }

    [Theory]
    [InlineData("1765000000", 0)]
    [InlineData("1765000000123", 123)]
    [InlineData("1765000000123456", 123)]
    [InlineData("1765000000123456789", 123)]
    public async Task Ingest_ReadsFromInItsUnit_WhenGivenInSecondsMillisecondsMicrosecondsOrNanoseconds(string from, int milliseconds)
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await PyroscopeClient.IngestAsync(collector.Client, $"name=shop&from={from}&until=1765000010", Text("a 1\n"));

        Assert.Equal(200, (int)response.StatusCode);
        var stored = Assert.Single(await StoredProfiles.FindAsync(collector.Client, "shop"));
        var profile = await StoredProfiles.DownloadAsync(collector.Client, stored.Id);
        var expected = (DateTime.UnixEpoch.AddSeconds(From).AddMilliseconds(milliseconds) - DateTime.UnixEpoch).Ticks * 100;
        Assert.Equal(expected, profile.TimeNanos - (profile.TimeNanos % 1_000_000));
    }

    [Fact]
    public async Task Ingest_StoresRawPprofUnchanged_WhenFormatIsPprof()
    {
        await using var collector = await TestCollector.StartAsync();
        var data = TestData.Read("go/cpu_json_01.pb.gz");

        using var response = await PyroscopeClient.IngestAsync(collector.Client, $"name=nodeapp{{pod=node-1}}&from={From}&until={Until}&spyName=nodespy&format=pprof", new ByteArrayContent(data));

        Assert.Equal(200, (int)response.StatusCode);
        var stored = Assert.Single(await StoredProfiles.FindAsync(collector.Client, "nodeapp"));
        Assert.Equal("cpu", stored.Type);
        Assert.Equal("node-1", stored.Labels["pod"]);
        using var download = await collector.Client.GetAsync("api/0/profiles/" + stored.Id, Cancel);
        Assert.Equal(data, await download.Content.ReadAsByteArrayAsync(Cancel));
    }

    [Fact]
    public async Task Ingest_StoresTheProfilePart_WhenMultipartHasNoSampleTypeConfig()
    {
        await using var collector = await TestCollector.StartAsync();
        var data = TestData.Read("go/heap_01.pb.gz");
        var expected = ProfileDecoder.Decode(data);

        using var response = await PyroscopeClient.IngestAsync(collector.Client, $"name=goapp{{region=eu}}&from={From}&until={Until}&spyName=gospy", Form(data, null));

        Assert.Equal(200, (int)response.StatusCode);
        var stored = Assert.Single(await StoredProfiles.FindAsync(collector.Client, "goapp"));
        Assert.Equal("heap", stored.Type);
        var profile = await StoredProfiles.DownloadAsync(collector.Client, stored.Id);
        var inuse = StoredProfiles.IndexOf(profile, "inuse_space", "bytes");
        Assert.Equal(StoredProfiles.Total(expected, StoredProfiles.IndexOf(expected, "inuse_space", "bytes")), StoredProfiles.Total(profile, inuse));
    }

    [Fact]
    public async Task Ingest_RenamesSampleTypesAndPicksTheType_WhenSampleTypeConfigGivesDisplayNames()
    {
        await using var collector = await TestCollector.StartAsync();
        var data = TestData.Read("go/block_02.pb.gz");
        var expected = ProfileDecoder.Decode(data);
        var config = """{"contentions":{"units":"lock_samples","display-name":"block_count"},"delay":{"units":"lock_nanoseconds","display-name":"block_duration"}}""";

        using var response = await PyroscopeClient.IngestAsync(collector.Client, $"name=goapp&from={From}&until={Until}", Form(data, config));

        Assert.Equal(200, (int)response.StatusCode);
        var stored = Assert.Single(await StoredProfiles.FindAsync(collector.Client, "goapp"));
        Assert.Equal("block", stored.Type);
        var profile = await StoredProfiles.DownloadAsync(collector.Client, stored.Id);
        Assert.Equal(["block_count", "block_duration"], profile.SampleTypes.Select(t => t.Type));
        Assert.Equal(
            StoredProfiles.Total(expected, StoredProfiles.IndexOf(expected, "delay", "nanoseconds")),
            StoredProfiles.Total(profile, StoredProfiles.IndexOf(profile, "block_duration", "nanoseconds")));
    }

    [Fact]
    public async Task Ingest_SumsSampledAndEventedProfilesInNanoseconds_WhenFormatIsSpeedscope()
    {
        await using var collector = await TestCollector.StartAsync();
        var speedscope = """
            {"$schema":"https://www.speedscope.app/file-format-schema.json",
             "shared":{"frames":[{"name":"main"},{"name":"parse"},{"name":"render"}]},
             "profiles":[
               {"type":"sampled","name":"t1","unit":"milliseconds","startValue":0,"endValue":30,
                "samples":[[0,1],[0,1],[0,2]],"weights":[10,5,15]},
               {"type":"evented","name":"t2","unit":"milliseconds","startValue":0,"endValue":8,
                "events":[{"type":"O","frame":0,"at":0},{"type":"O","frame":2,"at":2},{"type":"C","frame":2,"at":6},{"type":"C","frame":0,"at":8}]}]}
            """;

        using var response = await PyroscopeClient.IngestAsync(collector.Client, $"name=tool&from={From}&until={Until}&format=speedscope", Text(speedscope));

        Assert.Equal(200, (int)response.StatusCode);
        var stored = Assert.Single(await StoredProfiles.FindAsync(collector.Client, "tool"));
        var profile = await StoredProfiles.DownloadAsync(collector.Client, stored.Id);
        Assert.Equal(
            new Dictionary<string, long> { ["main;parse"] = 15_000_000, ["main;render"] = 19_000_000, ["main"] = 4_000_000 },
            StoredProfiles.Stacks(profile, StoredProfiles.IndexOf(profile, "cpu", "nanoseconds")));
    }

    [Fact]
    public async Task Ingest_AnswersUnderPyroscopePrefix_LikeAtTheRoot()
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.Client.PostAsync($"pyroscope/ingest?name=shop&from={From}", Text("a;b 1\n"), Cancel);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Single(await StoredProfiles.FindAsync(collector.Client, "shop"));
    }

    internal static ByteArrayContent Text(string text)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        content.Headers.ContentType = new MediaTypeHeaderValue("binary/octet-stream");
        return content;
    }

    internal static MultipartFormDataContent Form(byte[] profile, string? sampleTypeConfig)
    {
        var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(profile);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(part, "profile", "profile.pprof");
        if (sampleTypeConfig is not null)
        {
            form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes(sampleTypeConfig)), "sample_type_config", "sample_type_config.json");
        }

        return form;
    }
}
