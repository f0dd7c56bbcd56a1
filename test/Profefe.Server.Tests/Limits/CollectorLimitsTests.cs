using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Server.Tests.Metrics;
using Profefe.Testing;
using Profefe.Testing.Collectors;
using static Profefe.Server.Tests.CollectorApiTests;

namespace Profefe.Server.Tests.Limits;

/// <summary>The collector's limits over HTTP: each refused with a JSON 4xx naming its key and counted in the metrics.</summary>
public sealed class CollectorLimitsTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Post_Answers400AndCountsTheRefusal_WhenTheProfileHasMoreSamplesThanTheLimit()
    {
        await using var collector = await TestCollector.StartAsync(Settings(("Collector:MaxSamplesPerProfile", "100")));

        using var big = await PushAsync(collector, "svc1", "cpu", TestData.Read("go/big_cpu_01.pb.gz"));
        using var small = await PushAsync(collector, "svc1", "cpu", TestData.Read("go/cpu_math_01.pb.gz"));

        await AssertErrorAsync(big, 400, "profile over a limit: profile has more than 100 samples (Collector:MaxSamplesPerProfile)");
        Assert.Equal(200, (int)small.StatusCode);
        Assert.Equal(1, (await MetricsAsync(collector)).Find("profefe_limit_refusals_total", ("limit", "Collector:MaxSamplesPerProfile")));
    }

    [Fact]
    public async Task Post_Answers400_WhenAHeapProfileIsPushedAsCpu_SoMergesOfTheServiceStayWhole()
    {
        await using var collector = await TestCollector.StartAsync();

        using var poison = await PushAsync(collector, "svc1", "cpu", TestData.Read("go/heap_01.pb.gz"));
        await PushIdAsync(collector, "svc1", "cpu", "collector_cpu_1.prof");
        using var merge = await collector.Client.GetAsync("api/0/profiles/merge?service=svc1&type=cpu&from=2000-01-01T00:00:00&to=2100-01-01T00:00:00", Cancel);

        Assert.Equal(400, (int)poison.StatusCode);
        Assert.Contains("has sample type \\\"alloc_objects\\\" of a heap profile", await poison.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);
        Assert.Equal(200, (int)merge.StatusCode);
    }

    [Fact]
    public async Task Post_Answers400_WhenLabelsAreOverTheLimits()
    {
        await using var collector = await TestCollector.StartAsync(Settings(("Collector:MaxLabelsPerProfile", "2"), ("Collector:MaxLabelValuesPerKey", "1")));
        var data = TestData.Read("profefe/collector_cpu_1.prof");

        using var many = await PushAsync(collector, "svc1", "cpu", data, "a=1,b=2,c=3");
        using var first = await PushAsync(collector, "svc1", "cpu", data, "pod=p1");
        using var second = await PushAsync(collector, "svc1", "cpu", data, "pod=p2");

        await AssertErrorAsync(many, 400, "bad request: 3 labels, more than the limit of 2 (Collector:MaxLabelsPerProfile)");
        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal(400, (int)second.StatusCode);
        var metrics = await MetricsAsync(collector);
        Assert.Equal(1, metrics.Find("profefe_limit_refusals_total", ("limit", "Collector:MaxLabelsPerProfile")));
        Assert.Equal(1, metrics.Find("profefe_limit_refusals_total", ("limit", "Collector:MaxLabelValuesPerKey")));
    }

    [Fact]
    public async Task Post_Answers429WithRetryAfter_WhenATenantPushesFasterThanItsRate_AndOtherTenantsAreNotHeldBack()
    {
        await using var collector = await TestCollector.StartAsync(Settings(
            ("Collector:IngestRate", "0.01"),
            ("Collector:IngestBurst", "2"),
            ("Collector:Tenants:team-b:IngestBurst", "3")));
        var data = TestData.Read("profefe/collector_cpu_1.prof");

        var anonymous = new List<int>();
        var teamB = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await PushAsync(collector, "svc1", "cpu", data);
            anonymous.Add((int)response.StatusCode);
            if (i == 2)
            {
                Assert.NotNull(response.Headers.RetryAfter);
                Assert.Contains("tenant \\\"anonymous\\\" pushes faster than its ingest rate limit", await response.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);
            }

            using var content = new ByteArrayContent(data);
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/0/profiles?service=svc1&type=cpu") { Content = content };
            request.Headers.Add("X-Scope-OrgID", "team-b");
            using var other = await collector.Client.SendAsync(request, Cancel);
            teamB.Add((int)other.StatusCode);
        }

        Assert.Equal([200, 200, 429, 429], anonymous);
        Assert.Equal([200, 200, 200, 429], teamB);
        Assert.Equal(3, (await MetricsAsync(collector)).Find("profefe_limit_refusals_total", ("limit", "Collector:IngestRate")));
    }

    [Fact]
    public async Task Post_Answers429_WhenMoreUploadsThanAllowedAreRunningAndQueued()
    {
        await using var collector = await TestCollector.StartAsync(Settings(("Collector:MaxConcurrentUploads", "1")));
        var data = TestData.Read("profefe/collector_cpu_1.prof");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // One upload runs and one waits in the queue, both stalled mid-body; the third is refused at once.
        var stalled = new[] { StalledPushAsync(collector, data, release.Task), StalledPushAsync(collector, data, release.Task) };
        await Task.Delay(500, Cancel);
        using var refused = await PushAsync(collector, "svc1", "cpu", data);
        release.SetResult();
        var finished = await Task.WhenAll(stalled);

        await AssertErrorAsync(refused, 429, "too many requests: too many uploads in progress and queued; retry later (Collector:MaxConcurrentUploads)");
        Assert.Equal([200, 200], finished);
    }

    [Fact]
    public async Task Merge_Answers429_WhenMoreMergesThanAllowedAreRunningAndQueued_AndFindsStayServed()
    {
        var store = new StallingStore();
        // The stalling store stands in for raw reads: the profile engine, which would answer instead, is off.
        await using var collector = await TestCollector.StartAsync(Settings(("Collector:MaxConcurrentMerges", "1"), ("Engine:Enabled", "false")), builder =>
            builder.Services.AddSingleton<IProfileReader>(store));
        const string Merge = "api/0/profiles/merge?service=svc1&type=cpu&from=2000-01-01T00:00:00&to=2100-01-01T00:00:00";

        // One runs, sixteen wait (the queue is 16 per permit); the next is refused.
        var running = new List<Task<HttpResponseMessage>> { collector.Client.GetAsync(Merge, Cancel) };
        await store.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10), Cancel);
        running.AddRange(Enumerable.Range(0, 16).Select(_ => collector.Client.GetAsync(Merge, Cancel)));
        await Task.Delay(1000, Cancel);
        using var refused = await collector.Client.GetAsync(Merge, Cancel);
        using var find = await collector.Client.GetAsync("api/0/profiles?service=svc1&from=2000-01-01T00:00:00&to=2100-01-01T00:00:00", Cancel);
        store.Release.SetResult();
        foreach (var response in await Task.WhenAll(running))
        {
            Assert.Equal(404, (int)response.StatusCode);
            response.Dispose();
        }

        await AssertErrorAsync(refused, 429, "too many requests: too many merges running and queued; retry later (Collector:MaxConcurrentMerges)");
        Assert.Equal(404, (int)find.StatusCode);
    }

    [Fact]
    public async Task Merge_Answers400NamingTheDeadline_WhenTheQueryRunsLongerThanQueryTimeout()
    {
        var store = new StallingStore();
        await using var collector = await TestCollector.StartAsync(Settings(("Collector:QueryTimeout", "00:00:00.500"), ("Engine:Enabled", "false")), builder =>
            builder.Services.AddSingleton<IProfileReader>(store));

        using var response = await collector.Client.GetAsync("api/0/profiles/merge?service=svc1&type=cpu&from=2000-01-01T00:00:00&to=2100-01-01T00:00:00", Cancel);

        await AssertErrorAsync(response, 400, "bad request: the query ran longer than 0.5 s (Collector:QueryTimeout) and was stopped; narrow the time range or set \"limit\"");
        Assert.Equal(1, (await MetricsAsync(collector)).Find("profefe_limit_refusals_total", ("limit", "Collector:QueryTimeout")));
    }

    [Fact]
    public async Task Connections_AreRefusedAndCounted_WhenMaxConnectionsAreOpen()
    {
        await using var collector = await TestCollector.StartAsync(Settings(("Collector:MaxConnections", "2")));
        using var first = new TcpClient();
        using var second = new TcpClient();
        await first.ConnectAsync(IPAddress.Loopback, collector.BaseAddress.Port, Cancel);
        await second.ConnectAsync(IPAddress.Loopback, collector.BaseAddress.Port, Cancel);
        await Task.Delay(200, Cancel);

        using var third = new TcpClient();
        await third.ConnectAsync(IPAddress.Loopback, collector.BaseAddress.Port, Cancel);
        var stream = third.GetStream();
        await stream.WriteAsync("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray(), Cancel);
        var read = await ReadOrResetAsync(stream);
        first.Close();
        second.Close();
        await Task.Delay(200, Cancel);

        Assert.Equal(0, read);
        Assert.Equal(1, (await MetricsAsync(collector)).Find("profefe_rejected_connections_total"));
    }

    [Fact]
    public async Task Post_Answers429WithRetryAfterAndCountsIt_WhenUploadsInflatingAtOnceWouldPassTheBudget()
    {
        await using var collector = await TestCollector.StartAsync(Settings(("Collector:MaxInflatedBytesInFlight", "1000")));

        using var refused = await PushAsync(collector, "svc1", "cpu", TestData.Read("profefe/collector_cpu_1.prof"));

        Assert.Equal(429, (int)refused.StatusCode);
        Assert.Equal("1", refused.Headers.RetryAfter?.ToString());
        Assert.Contains("(Collector:MaxInflatedBytesInFlight)", await refused.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);
        Assert.Equal(1, (await MetricsAsync(collector)).Find("profefe_limit_refusals_total", ("limit", "Collector:MaxInflatedBytesInFlight")));
    }

    [Fact]
    public async Task Post_IsCutWith408NamingTheRate_WhenTheBodyTricklesBelowMinRequestBodyDataRate()
    {
        await using var collector = await TestCollector.StartAsync(Settings(
            ("Collector:MinRequestBodyDataRate", "100000"), ("Collector:MinRequestBodyDataRateGracePeriod", "00:00:02")));
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, collector.BaseAddress.Port, Cancel);
        var stream = client.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            "POST /api/0/profiles?service=slow&type=cpu HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n"), Cancel);

        var answer = await TrickleUntilAnsweredAsync(stream, TimeSpan.FromSeconds(15));

        Assert.StartsWith("HTTP/1.1 408", answer, StringComparison.Ordinal);
        Assert.Contains("(Collector:MinRequestBodyDataRate)", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connection_IsClosed_WhenItStaysIdleLongerThanKeepAliveTimeout()
    {
        await using var collector = await TestCollector.StartAsync(Settings(("Collector:KeepAliveTimeout", "00:00:01")));
        using var idle = new TcpClient();
        await idle.ConnectAsync(IPAddress.Loopback, collector.BaseAddress.Port, Cancel);

        var read = await ReadOrResetAsync(idle.GetStream());

        Assert.Equal(0, read);
    }

    [Fact]
    public async Task Start_FailsValidationNamingTheKey_WhenTheGracePeriodIsNotLongerThanKestrelsHeartbeat()
    {
        await using var app = CollectorHost.Build(new Dictionary<string, string?>
        {
            ["Collector:Address"] = "127.0.0.1:0",
            ["Storage:Local:DataDirectory"] = Path.Combine(Path.GetTempPath(), "profefe-never-created-" + Guid.NewGuid().ToString("N")),
            ["Collector:MinRequestBodyDataRateGracePeriod"] = "00:00:01",
        });

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => app.StartAsync(Cancel));

        Assert.Contains("Collector:MinRequestBodyDataRateGracePeriod is 00:00:01; it must be longer than 1 s and at most a day", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Sends 100 bytes every 200 ms until the collector answers or closes; returns what it answered.</summary>
    private static async Task<string> TrickleUntilAnsweredAsync(NetworkStream stream, TimeSpan within)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var answer = new byte[4096];
        var pending = stream.ReadAsync(answer, Cancel).AsTask();
        while (clock.Elapsed < within && !pending.IsCompleted)
        {
            try
            {
                await stream.WriteAsync(new byte[100], Cancel);
            }
            catch (IOException)
            {
                break;
            }

            await Task.WhenAny(pending, Task.Delay(200, Cancel));
        }

        var read = await pending.WaitAsync(TimeSpan.FromSeconds(5), Cancel);
        return System.Text.Encoding.ASCII.GetString(answer, 0, read);
    }

    private static async Task<int> ReadOrResetAsync(NetworkStream stream)
    {
        try
        {
            return await stream.ReadAsync(new byte[256], Cancel).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Cancel);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static async Task<PrometheusExposition> MetricsAsync(TestCollector collector)
    {
        using var response = await collector.Client.GetAsync("debug/metrics", Cancel);
        return PrometheusExposition.Parse(await response.Content.ReadAsStringAsync(Cancel));
    }

    private static async Task<int> StalledPushAsync(TestCollector collector, byte[] data, Task release)
    {
        using var content = new StalledContent(data, release);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await collector.Client.PostAsync("api/0/profiles?service=svc1&type=cpu", content, Cancel);
        return (int)response.StatusCode;
    }

    /// <summary>Sends the first bytes of a body, then waits for <c>release</c> before the rest.</summary>
    private sealed class StalledContent(byte[] data, Task release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(data.AsMemory(0, 100));
            await stream.FlushAsync();
            await release;
            await stream.WriteAsync(data.AsMemory(100));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = data.Length;
            return true;
        }
    }

    /// <summary>A store whose finds wait until released (or cancelled): a merge that takes as long as the test wants.</summary>
    private sealed class StallingStore : IProfileReader
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<IReadOnlyList<ProfileMeta>> FindProfilesAsync(TenantId tenant, ProfileQuery query, CancellationToken cancellationToken)
        {
            if (query.Type is not null)
            {
                Entered.TrySetResult();
                await Release.Task.WaitAsync(cancellationToken);
            }

            return [];
        }

        public async IAsyncEnumerable<StoredProfile> ListProfilesAsync(TenantId tenant, IReadOnlyList<ProfileId> ids, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            yield break;
        }

        public Task<IReadOnlyList<string>> ListServicesAsync(TenantId tenant, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([]);

        public Task<IReadOnlyList<LabelValues>> ListLabelsAsync(TenantId tenant, string? service, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<LabelValues>>([]);
    }
}
