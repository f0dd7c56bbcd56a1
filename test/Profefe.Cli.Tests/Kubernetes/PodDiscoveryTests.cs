using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Profefe.Cli.Scrape.Kubernetes;
using Profefe.Cli.Tests.Scrape;
using Profefe.Client;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Cli.Tests.Kubernetes;

/// <summary>
/// <c>profefe scrape</c> discovering pods from a Kubernetes API served by the test (<see cref="FakeKubernetesApi"/>),
/// the pods being real Go programs (GoTarget) on their own loopback addresses.
/// </summary>
public sealed class PodDiscoveryTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly string _directory = Directory.CreateTempSubdirectory("profefe-pods-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Scrape_TakesAnnotatedPodsWithKubeProfefeServiceAndLabels_AndFollowsIpChangeAndDeletion()
    {
        var ct = TestContext.Current.CancellationToken;
        var port = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var api = await FakeKubernetesApi.StartAsync(ct);
        await using var collector = await TestCollector.StartAsync();
        await using var apiProcess = await StartPodAsync("127.0.0.11", port, ct);
        await using var apiProcessMoved = await StartPodAsync("127.0.0.14", port, ct);
        await using var workerProcess = await StartPodAsync("127.0.0.12", port, ct, "/custom");
        await using var plainProcess = await StartPodAsync("127.0.0.13", port, ct);
        var apiPod = new FakePod(
            "shop",
            "api-1",
            "127.0.0.11",
            new Dictionary<string, string>
            {
                [PodTargetMapper.EnableAnnotation] = "true",
                [PodTargetMapper.PortAnnotation] = port,
                [PodTargetMapper.ServiceAnnotation] = "api",
                [PodTargetMapper.ProfilesAnnotation] = "heap,cpu",
                [PodTargetMapper.CpuDurationAnnotation] = "1s",
            },
            new Dictionary<string, string> { ["app"] = "api" });
        var workerPod = new FakePod(
            "shop",
            "worker-5d8f7",
            "127.0.0.12",
            new Dictionary<string, string>
            {
                [PodTargetMapper.EnableAnnotation] = "true",
                [PodTargetMapper.PortAnnotation] = port,
                [PodTargetMapper.PathAnnotation] = "/custom/debug/pprof",
            },
            new Dictionary<string, string> { ["app"] = "worker" },
            Node: "node-b");
        api.Upsert(apiPod);
        api.Upsert(workerPod);
        // Not annotated; annotated but in a namespace not watched; annotated as .NET: none is scraped.
        api.Upsert(new FakePod("shop", "plain", "127.0.0.13", new Dictionary<string, string> { [PodTargetMapper.PortAnnotation] = port }));
        api.Upsert(new FakePod("elsewhere", "api-9", "127.0.0.13", new Dictionary<string, string> { [PodTargetMapper.EnableAnnotation] = "true", [PodTargetMapper.PortAnnotation] = port }));
        api.Upsert(new FakePod("shop", "dotnet-api", "127.0.0.13", new Dictionary<string, string> { [PodTargetMapper.EnableAnnotation] = "true", [PodTargetMapper.RuntimeAnnotation] = "dotnet" }));
        var config = await WriteConfigAsync(
            $$"""
            collector: {{collector.AddressText}}
            timeout: 5s
            profiles:
              heap: { interval: 2s }
              goroutine: { interval: 2s }
            kubernetes:
              kubeconfig: {{await api.WriteKubeconfigAsync(_directory, ct)}}
              namespaces: [shop]
              pod_labels: { app: app }
            """,
            ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var captured = new FakeLoggerProvider();
        using var logging = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(captured));
        var scrape = CliRunner.RunAsync(["scrape", "--config", config], stop.Token, logging);
        var log = () => string.Join('\n', captured.Collector.GetSnapshot());

        await WaitUntilAsync(
            // The targets do not spin, so a cpu profile may come back empty and not be pushed: its request is what counts.
            async () => (await collector.FindAsync("api", "heap", ct)).Count > 0 && apiProcess.Requests.Any(r => r.Path == "/debug/pprof/profile?seconds=1")
                && (await collector.FindAsync("worker-5d8f7", "heap", ct)).Count > 0 && (await collector.FindAsync("worker-5d8f7", "goroutine", ct)).Count > 0,
            scrape,
            "profiles of both annotated pods",
            log);

        // kprofefe's service and labels: with profefe.com/service the pod's name becomes a label; the app label as mapped.
        var apiLabels = new ProfileLabel[] { new("app", "api"), new("from", "kube-profefe"), new("namespace", "shop"), new("node", "node-a"), new("pod", "api-1") };
        Assert.All(await collector.FindAsync("api", null, ct), p => Assert.Equal(apiLabels, p.Labels));
        var workerLabels = new ProfileLabel[] { new("app", "worker"), new("from", "kube-profefe"), new("namespace", "shop"), new("node", "node-b") };
        Assert.All(await collector.FindAsync("worker-5d8f7", null, ct), p => Assert.Equal(workerLabels, p.Labels));
        Assert.Empty(await collector.FindAsync("api", "goroutine", ct));
        Assert.Contains(apiProcess.Requests, r => r.Path == "/debug/pprof/profile?seconds=1");
        Assert.All(workerProcess.Requests, r => Assert.StartsWith("/custom/debug/pprof/", r.Path, StringComparison.Ordinal));
        Assert.Empty(plainProcess.Requests);
        Assert.Contains(captured.Collector.GetSnapshot(), r => r.Id.Id == CliEventIds.PodProfiledByAgent && r.Message.Contains("shop/dotnet-api", StringComparison.Ordinal));

        // The pod changes address (MODIFIED): the new one is scraped, the old one no more.
        var moved = DateTime.UtcNow;
        api.Upsert(apiPod with { Ip = "127.0.0.14" });
        await WaitUntilAsync(() => Task.FromResult(apiProcessMoved.Requests.Any(r => r.Path == "/debug/pprof/heap")), scrape, "a heap profile from the pod's new address", log);

        // The worker is deleted: it is not asked again after the interval that was running.
        var deleted = DateTime.UtcNow;
        api.Delete(workerPod);
        await Task.Delay(Interval * 2 + TimeSpan.FromSeconds(1), ct);
        await stop.CancelAsync();
        var result = await scrape;

        Assert.True(result.ExitCode == 0, result + log());
        Assert.DoesNotContain(apiProcess.Requests, r => r.At > moved + Interval);
        Assert.DoesNotContain(workerProcess.Requests, r => r.At > deleted + Interval);
        Assert.Contains(captured.Collector.GetSnapshot(), r => r.Id.Id == CliEventIds.TargetRemoved && r.Message.Contains("http://127.0.0.11:", StringComparison.Ordinal));
        Assert.Contains(captured.Collector.GetSnapshot(), r => r.Id.Id == CliEventIds.TargetRemoved && r.Message.Contains("http://127.0.0.12:", StringComparison.Ordinal));
        Assert.Equal(1, api.Lists);
    }

    [Fact]
    [Trait(TestCategory.Name, TestCategory.Slow)]
    public async Task Scrape_ResumesWatchAfterDrop_UsesBookmarks_AndListsAgainAfter410Gone()
    {
        var ct = TestContext.Current.CancellationToken;
        var port = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var api = await FakeKubernetesApi.StartAsync(ct);
        await using var collector = await TestCollector.StartAsync();
        await using var first = await StartPodAsync("127.0.0.21", port, ct);
        await using var second = await StartPodAsync("127.0.0.22", port, ct);
        await using var third = await StartPodAsync("127.0.0.23", port, ct);
        var annotations = new Dictionary<string, string> { [PodTargetMapper.EnableAnnotation] = "true", [PodTargetMapper.PortAnnotation] = port };
        var selected = new Dictionary<string, string> { ["profiling"] = "on" };
        var firstPod = new FakePod("a", "first", "127.0.0.21", annotations, selected);
        api.Upsert(firstPod);
        var config = await WriteConfigAsync(
            $$"""
            collector: {{collector.AddressText}}
            profiles:
              heap: { interval: 1s }
            kubernetes:
              kubeconfig: {{await api.WriteKubeconfigAsync(_directory, ct)}}
              label_selector: profiling=on
            """,
            ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var captured = new FakeLoggerProvider();
        using var logging = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(captured));
        var scrape = CliRunner.RunAsync(["scrape", "--config", config], stop.Token, logging);
        var log = () => string.Join('\n', captured.Collector.GetSnapshot()) + $"\nwatches from: {string.Join(' ', api.WatchesFrom)}";
        await WaitUntilAsync(() => Task.FromResult(first.Requests.Count > 0 && api.OpenWatches == 1), scrape, "the first pod scraped and the pods watched", log);

        // The server drops the watch: it is resumed from where it was, not listed again, and misses nothing.
        api.HoldWatches();
        api.DropWatches();
        api.Upsert(new FakePod("b", "second", "127.0.0.22", annotations, selected));
        await WaitUntilAsync(() => Task.FromResult(api.WatchesFrom.Count >= 2), scrape, "the watch asked again", log);
        api.ResumeWatches();
        await WaitUntilAsync(() => Task.FromResult(second.Requests.Count > 0), scrape, "the pod added while the watch was down scraped", log);
        Assert.Equal(1, api.Lists);
        Assert.Equal(["1001", "1001"], api.WatchesFrom);

        // Pods the selector leaves out move the resourceVersion on; the bookmark tells the scraper, so after
        // compaction and a drop its watch resumes from a version the server still has.
        for (var i = 0; i < 5; i++)
        {
            api.Upsert(new FakePod("b", $"unselected-{i}", "127.0.0.29", annotations));
        }

        var bookmarked = api.ResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture);
        api.Bookmark();
        await Task.Delay(TimeSpan.FromSeconds(1), ct);
        api.Compact();
        var watches = api.WatchesFrom.Count;
        await WaitUntilAsync(() => Task.FromResult(api.OpenWatches == 1), scrape, "the pods watched", log);
        api.DropWatches();
        await WaitUntilAsync(() => Task.FromResult(api.WatchesFrom.Count > watches), scrape, "the watch resumed after the bookmark", log);
        Assert.Equal(bookmarked, api.WatchesFrom[watches]);
        Assert.Equal(0, api.Expired);
        Assert.Equal(1, api.Lists);

        // History compacted past the scraper's version while it was away: 410 Gone, then a fresh list shows
        // that the first pod went and a third came.
        await WaitUntilAsync(() => Task.FromResult(api.OpenWatches == 1), scrape, "the pods watched", log);
        api.HoldWatches();
        api.DropWatches();
        api.Delete(firstPod);
        api.Upsert(new FakePod("c", "third", "127.0.0.23", annotations, selected));
        api.Upsert(new FakePod("c", "unselected-late", "127.0.0.29", annotations));
        api.Compact();
        api.ResumeWatches();
        await WaitUntilAsync(() => Task.FromResult(api.Lists == 2), scrape, "the pods listed again", log);
        var relisted = DateTime.UtcNow;
        await WaitUntilAsync(() => Task.FromResult(third.Requests.Count > 0), scrape, "the pod seen only by listing again scraped", log);
        await Task.Delay(Interval, ct);
        await stop.CancelAsync();
        var result = await scrape;

        Assert.True(result.ExitCode == 0, result + log());
        Assert.Equal(1, api.Expired);
        Assert.Equal(2, api.Lists);
        Assert.Contains(captured.Collector.GetSnapshot(), r => r.Id.Id == CliEventIds.PodWatchExpired);
        Assert.False(first.Requests.Any(r => r.At > relisted + Interval), $"the deleted pod was scraped after {relisted:O}\n{log()}");
        Assert.NotEmpty(await collector.FindAsync("third", "heap", ct));
    }

    [Fact]
    public async Task ScrapeOnce_ListsPodsOnce_AndTakesEveryAnnotatedPod()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var api = await FakeKubernetesApi.StartAsync(ct);
        await using var collector = await TestCollector.StartAsync();
        await using var targets = await StubTargets.StartAsync(ct);
        var stub = new Uri(targets.Address);
        var port = stub.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        api.Upsert(new FakePod("shop", "good-0", "127.0.0.1", new Dictionary<string, string>
        {
            [PodTargetMapper.EnableAnnotation] = "true",
            [PodTargetMapper.PortAnnotation] = port,
            [PodTargetMapper.PathAnnotation] = "good/debug/pprof/",
            [PodTargetMapper.ServiceAnnotation] = "shop-good",
        }));
        api.Upsert(new FakePod("shop", "pending-0", null, new Dictionary<string, string> { [PodTargetMapper.EnableAnnotation] = "true" }, Phase: "Pending"));
        api.Upsert(new FakePod("shop", "bad-port", "127.0.0.1", new Dictionary<string, string> { [PodTargetMapper.EnableAnnotation] = "true", [PodTargetMapper.PortAnnotation] = "http" }));
        var config = await WriteConfigAsync(
            $$"""
            collector: {{collector.AddressText}}
            profiles:
              heap: { interval: 1m }
            kubernetes:
              kubeconfig: {{await api.WriteKubeconfigAsync(_directory, ct)}}
              namespaces: [shop, empty]
            """,
            ct);
        var captured = new FakeLoggerProvider();
        using var logging = LoggerFactory.Create(b => b.AddProvider(captured));

        var result = await CliRunner.RunAsync(["scrape", "--config", config, "--once"], ct, logging);

        Assert.True(result.ExitCode == 0, result + string.Join('\n', captured.Collector.GetSnapshot()));
        var profile = Assert.Single(await collector.FindAsync("shop-good", "heap", ct));
        Assert.Equal([new ProfileLabel("from", "kube-profefe"), new ProfileLabel("namespace", "shop"), new ProfileLabel("node", "node-a"), new ProfileLabel("pod", "good-0")], profile.Labels);
        Assert.Contains(result.OutputLines, l => l.StartsWith($"{targets.Address}/good/debug/pprof/ heap: taken 1, pushed 1,", StringComparison.Ordinal));
        Assert.Single(result.OutputLines);
        Assert.Equal(2, api.Lists);
        Assert.Contains(captured.Collector.GetSnapshot(), r => r.Id.Id == CliEventIds.PodSkipped && r.Message.Contains("pod shop/bad-port: profefe.com/port: \"http\" is not a port number", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ScrapeOnce_FailsWithOneLine_WhenTheApiServerIsDown()
    {
        var ct = TestContext.Current.CancellationToken;
        var kubeconfig = await FakeKubernetesApi.WriteKubeconfigAsync(_directory, $"http://127.0.0.1:{FreePort.Next()}", ct);
        var config = await WriteConfigAsync($"kubernetes: {{ kubeconfig: {kubeconfig}, namespaces: [shop] }}\n", ct);

        var result = await CliRunner.RunAsync(["scrape", "--config", config, "--once"], ct);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("profefe scrape: listing the pods of namespace shop failed: ", result.Error, StringComparison.Ordinal);
        Assert.Contains("Connection refused", result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Scrape_FailsWithOneLine_WhenTheKubeconfigIsMissing()
    {
        var ct = TestContext.Current.CancellationToken;
        var config = await WriteConfigAsync("kubernetes: { kubeconfig: missing-kubeconfig }\n", ct);

        var result = await CliRunner.RunAsync(["scrape", "--config", config, "--once"], ct);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"profefe scrape: kubernetes: no usable cluster configuration (not running in a pod with a service account, and the kubeconfig {Path.Combine(_directory, "missing-kubeconfig")} could not be used)", result.Error, StringComparison.Ordinal);
    }

    private static Task<GoTargetProcess> StartPodAsync(string ip, string port, CancellationToken cancellationToken, string? prefix = null) =>
        GoTargetProcess.StartAsync(
            prefix is null ? ["-addr", $"{ip}:{port}", "-spin=false", "-log-requests"] : ["-addr", $"{ip}:{port}", "-spin=false", "-log-requests", "-prefix", prefix],
            cancellationToken);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, Task scrape, string what, Func<string> log)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (scrape.IsCompleted || DateTime.UtcNow > deadline)
            {
                Assert.Fail($"waited in vain for {what}{(scrape.IsCompleted ? " (the scraper stopped)" : "")}\n{log()}");
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private async Task<string> WriteConfigAsync(string yaml, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_directory, "scrape.yaml");
        await File.WriteAllTextAsync(path, yaml, cancellationToken);
        return path;
    }
}
