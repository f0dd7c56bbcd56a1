using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Pprof;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Server.Tests;

/// <summary>What the collector does beyond the recorded transcript: limits, additions, failures, retention.</summary>
public sealed class CollectorApiTests
{
    private const string AllOf2019 = "from=2019-01-01T00:00:00&to=2020-01-01T00:00:00";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Post_Answers413_WhenBodyExceedsMaxBodyBytes()
    {
        await using var collector = await TestCollector.StartAsync(Settings(("Collector:MaxBodyBytes", "10000")));

        using var declared = await PushAsync(collector, "svc1", "cpu", TestData.Read("profefe/collector_cpu_1.prof"));
        await AssertErrorAsync(declared, 413, "request body too large: the limit is 10000 bytes (Collector:MaxBodyBytes)");

        // Without Content-Length the limit still holds while the body streams in.
        using var chunked = new StreamContent(new MemoryStream(TestData.Read("profefe/collector_cpu_1.prof")));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/0/profiles?service=svc1&type=cpu") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using var streamed = await collector.Client.SendAsync(request, Cancel);
        await AssertErrorAsync(streamed, 413, "request body too large: the limit is 10000 bytes (Collector:MaxBodyBytes)");

        using var services = await collector.Client.GetAsync("api/0/services", Cancel);
        Assert.Equal(404, (int)services.StatusCode);
    }

    [Fact]
    public async Task Post_Answers413_WhenGzipInflatesPastMaxDecompressedBytes()
    {
        await using var collector = await TestCollector.StartAsync(Settings(("Collector:MaxDecompressedBytes", "20000")));

        using var response = await PushAsync(collector, "svc1", "cpu", TestData.Read("profefe/collector_cpu_1.prof"));

        await AssertErrorAsync(response, 413, "profile over a limit: decompressing profile: decompressed size exceeds the limit of 20000 bytes (Collector:MaxDecompressedBytes)");
    }

    [Fact]
    public async Task MergeByQuery_WithTheEngine_CapsOnlyProfilesReadOneByOne()
    {
        await using var collector = await TestCollector.StartAsync(Settings(("Collector:MaxMergeProfiles", "2")));
        var ids = new List<string>();
        foreach (var file in new[] { "collector_cpu_1.prof", "collector_cpu_2.prof", "collector_cpu_3.prof" })
        {
            ids.Add(await PushIdAsync(collector, "svc1", "cpu", file));
        }

        // Whole hours come from rollups, so the cap does not apply to them.
        using var merge = await collector.Client.GetAsync($"api/0/profiles/merge?service=svc1&type=cpu&{AllOf2019}", Cancel);
        Assert.Equal(200, (int)merge.StatusCode);

        // A range that starts inside the profiles' hour reads them one by one.
        using var find = await collector.Client.GetAsync($"api/0/profiles?service=svc1&type=cpu&{AllOf2019}", Cancel);
        var first = System.Text.Json.JsonDocument.Parse(await find.Content.ReadAsStringAsync(Cancel)).RootElement.GetProperty("body")[0].GetProperty("created_at").GetDateTime();
        var from = first.AddTicks(-(first.Ticks % TimeSpan.TicksPerHour)).AddSeconds(1);
        using var partial = await collector.Client.GetAsync($"api/0/profiles/merge?service=svc1&type=cpu&from={from:yyyy-MM-ddTHH:mm:ss}&to=2020-01-01T00:00:00", Cancel);
        if (first >= from)
        {
            await AssertErrorAsync(partial, 400, "bad request: merge reads more than 2 profiles one by one (Collector:MaxMergeProfiles); widen the range to whole hours, narrow it, or set \"limit\"");
        }

        using var byIds = await collector.Client.GetAsync("api/0/profiles/" + string.Join("+", ids), Cancel);
        await AssertErrorAsync(byIds, 400, "bad request: merge of 3 profiles exceeds the limit of 2 (Collector:MaxMergeProfiles); narrow the time range or set \"limit\"");
    }

    [Fact]
    public async Task Merge_Answers400WithTheCount_WhenMoreProfilesMatchThanMaxMergeProfiles()
    {
        await using var collector = await TestCollector.StartAsync(Settings(("Collector:MaxMergeProfiles", "2"), ("Engine:Enabled", "false")));
        var ids = new List<string>();
        foreach (var file in new[] { "collector_cpu_1.prof", "collector_cpu_2.prof", "collector_cpu_3.prof" })
        {
            ids.Add(await PushIdAsync(collector, "svc1", "cpu", file));
        }

        using var merge = await collector.Client.GetAsync($"api/0/profiles/merge?service=svc1&type=cpu&{AllOf2019}", Cancel);
        await AssertErrorAsync(merge, 400, "bad request: merge of 3 profiles exceeds the limit of 2 (Collector:MaxMergeProfiles); narrow the time range or set \"limit\"");

        using var byIds = await collector.Client.GetAsync("api/0/profiles/" + string.Join("+", ids), Cancel);
        await AssertErrorAsync(byIds, 400, "bad request: merge of 3 profiles exceeds the limit of 2 (Collector:MaxMergeProfiles); narrow the time range or set \"limit\"");

        using var limited = await collector.Client.GetAsync($"api/0/profiles/merge?service=svc1&type=cpu&limit=2&{AllOf2019}", Cancel);
        Assert.Equal(200, (int)limited.StatusCode);
    }

    [Fact]
    public async Task GetIds_Answers404NamingThem_WhenEveryIdIsUnknown()
    {
        await using var collector = await TestCollector.StartAsync();
        var first = ProfileId.NewId(DateTime.UtcNow).ToString();
        var second = ProfileId.NewId(DateTime.UtcNow).ToString();

        using var response = await collector.Client.GetAsync($"api/0/profiles/{first}+{second}", Cancel);

        await AssertErrorAsync(response, 404, $"nothing found: unknown profile ids \"{first}\", \"{second}\"");
    }

    [Fact]
    public async Task Labels_ListsKeysAndSortedValues_OfOneServiceOrAll()
    {
        await using var collector = await TestCollector.StartAsync();
        using (await PushAsync(collector, "svc1", "cpu", TestData.Read("profefe/collector_cpu_1.prof"), "region=europe-west3,dc=fra"))
        using (await PushAsync(collector, "svc1", "cpu", TestData.Read("profefe/collector_cpu_2.prof"), "dc=ams"))
        using (await PushAsync(collector, "svc2", "cpu", TestData.Read("profefe/collector_cpu_3.prof"), "zone=b"))
        {
        }

        using var one = await collector.Client.GetAsync("api/0/labels?service=svc1", Cancel);
        Assert.Equal("application/json", one.Content.Headers.ContentType?.ToString());
        Assert.Equal(
            "{\"code\":200,\"body\":[{\"key\":\"dc\",\"values\":[\"ams\",\"fra\"]},{\"key\":\"region\",\"values\":[\"europe-west3\"]}]}\n",
            await one.Content.ReadAsStringAsync(Cancel));

        using var all = await collector.Client.GetAsync("api/0/labels", Cancel);
        Assert.Contains("{\"key\":\"zone\",\"values\":[\"b\"]}", await all.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);

        using var none = await collector.Client.GetAsync("api/0/labels?service=nope", Cancel);
        Assert.Equal("{\"code\":200,\"body\":[]}\n", await none.Content.ReadAsStringAsync(Cancel));
    }

    [Fact]
    public async Task Health_IsReady_WhenTheStoreAnswers()
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.Client.GetAsync("health", Cancel);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("{\"code\":200,\"body\":{\"status\":\"ready\"}}\n", await response.Content.ReadAsStringAsync(Cancel));
    }

    [Fact]
    public async Task HealthAndApi_Answer503NamingTheDependency_WhenTheStoreIsUnavailable()
    {
        await using var collector = await TestCollector.StartAsync(configure: builder =>
        {
            builder.Services.AddSingleton<IProfileReader, UnavailableStore>();
            builder.Services.AddSingleton<IProfileWriter, UnavailableStore>();
        });

        using var health = await collector.Client.GetAsync("health", Cancel);
        await AssertErrorAsync(health, 503, "not ready: local storage: database is locked");

        using var find = await collector.Client.GetAsync("api/0/profiles?service=svc1&" + AllOf2019, Cancel);
        await AssertErrorAsync(find, 503, "service unavailable: local storage: database is locked");

        using var push = await PushAsync(collector, "svc1", "cpu", TestData.Read("profefe/collector_cpu_1.prof"));
        await AssertErrorAsync(push, 503, "service unavailable: local storage: database is locked");
    }

    [Fact]
    public async Task Post_KeepsTheBytesVerbatim_AndTakesCreatedAtFromTheQuery_WhenTheProfileHasNoTime()
    {
        await using var collector = await TestCollector.StartAsync();
        var profile = ProfileDecoder.Decode(TestData.Read("profefe/collector_cpu_1.prof"));
        profile.TimeNanos = 0;
        var raw = ProfileEncoder.EncodeToArray(profile, compress: false);

        using var response = await PushAsync(collector, "svc1", "cpu", raw, query: "&created_at=2019-06-01T10:20:30");
        var json = await response.Content.ReadAsStringAsync(Cancel);
        Assert.EndsWith(",\"created_at\":\"2019-06-01T10:20:30Z\"}}\n", json, StringComparison.Ordinal);

        using var download = await collector.Client.GetAsync("api/0/profiles/" + IdOf(json), Cancel);
        Assert.Equal(raw, await download.Content.ReadAsByteArrayAsync(Cancel));
    }

    [Fact]
    public async Task Retention_RemovesProfilesStoredBeforeThePeriod_FromFindGetMergeAndServices()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(-3));
        await using var collector = await TestCollector.StartAsync(
            Settings(("Retention:Period", "01:00:00"), ("Retention:Interval", "1.00:00:00")),
            builder => builder.Services.AddSingleton<TimeProvider>(clock));
        var oldCpu = await PushIdAsync(collector, "svc1", "cpu", "collector_cpu_1.prof");
        var oldService = await PushIdAsync(collector, "gone", "cpu", "collector_cpu_2.prof");
        clock.SetUtcNow(DateTimeOffset.UtcNow);
        var recentCpu = await PushIdAsync(collector, "svc1", "cpu", "collector_cpu_3.prof");

        var retention = collector.Services.GetServices<IHostedService>().OfType<ProfileRetentionService>().Single();
        Assert.Equal(2, await retention.RunOnceAsync(Cancel));

        using var find = await collector.Client.GetAsync("api/0/profiles?service=svc1&" + AllOf2019, Cancel);
        var found = await find.Content.ReadAsStringAsync(Cancel);
        Assert.Contains(recentCpu, found, StringComparison.Ordinal);
        Assert.DoesNotContain(oldCpu, found, StringComparison.Ordinal);

        using var get = await collector.Client.GetAsync("api/0/profiles/" + oldCpu, Cancel);
        Assert.Equal(404, (int)get.StatusCode);

        using var merge = await collector.Client.GetAsync("api/0/profiles/merge?service=svc1&type=cpu&" + AllOf2019, Cancel);
        var merged = ProfileDecoder.Decode(await merge.Content.ReadAsByteArrayAsync(Cancel));
        Assert.Equal(
            ContractReplayTests.Summarize(ProfileDecoder.Decode(TestData.Read("profefe/collector_cpu_3.prof")))["totals"],
            ContractReplayTests.Summarize(merged)["totals"]);

        using var services = await collector.Client.GetAsync("api/0/services", Cancel);
        Assert.Equal("{\"code\":200,\"body\":[\"svc1\"]}\n", await services.Content.ReadAsStringAsync(Cancel));
        Assert.NotEqual(oldService, recentCpu);
    }

    internal static Dictionary<string, string?> Settings(params (string Key, string Value)[] settings) =>
        settings.ToDictionary(s => s.Key, s => (string?)s.Value);

    internal static async Task<HttpResponseMessage> PushAsync(TestCollector collector, string service, string type, byte[] data, string? labels = null, string query = "")
    {
        using var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var url = $"api/0/profiles?service={service}&type={type}" + (labels is null ? "" : "&labels=" + labels) + query;
        return await collector.Client.PostAsync(url, content, Cancel);
    }

    internal static async Task<string> PushIdAsync(TestCollector collector, string service, string type, string file)
    {
        using var response = await PushAsync(collector, service, type, TestData.Read("profefe/" + file));
        var json = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True(200 == (int)response.StatusCode, json);
        return IdOf(json);
    }

    internal static string IdOf(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("body").GetProperty("id").GetString()!;
    }

    internal static async Task AssertErrorAsync(HttpResponseMessage response, int status, string message)
    {
        var quoted = "\"" + message.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        Assert.Equal("{\"code\":" + status + ",\"error\":" + quoted + "}\n", Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync(Cancel)));
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.ToString());
    }

    private sealed class UnavailableStore : IProfileReader, IProfileWriter
    {
        private static StorageUnavailableException Failure => new("local", "database is locked", null);

        public Task<IReadOnlyList<ProfileMeta>> FindProfilesAsync(TenantId tenant, ProfileQuery query, CancellationToken cancellationToken) => throw Failure;

        public IAsyncEnumerable<StoredProfile> ListProfilesAsync(TenantId tenant, IReadOnlyList<ProfileId> ids, CancellationToken cancellationToken) => throw Failure;

        public Task<IReadOnlyList<string>> ListServicesAsync(TenantId tenant, CancellationToken cancellationToken) => throw Failure;

        public Task<IReadOnlyList<LabelValues>> ListLabelsAsync(TenantId tenant, string? service, CancellationToken cancellationToken) => throw Failure;

        public Task WriteProfileAsync(ProfileMeta meta, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => throw Failure;
    }
}
