using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Cli.Tests.Scrape;

public sealed class ScrapeCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("profefe-scrape-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task ScrapeOnce_PushesGoodTargetsProfiles_AndReportsBadTargets()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var collector = await TestCollector.StartAsync();
        await using var targets = await StubTargets.StartAsync(ct);
        var down = $"http://127.0.0.1:{FreePort.Next()}";
        var config = await WriteConfigAsync(
            $$"""
            collector: {{collector.AddressText}}
            timeout: 2s
            profiles:
              cpu: { interval: 1m, duration: 1s }
              heap: { interval: 1m }
              goroutine: { interval: 1m }
              trace: { interval: 1m, duration: 1s }
            targets:
              - url: {{targets.Address}}/good/debug/pprof/
                service: good
                labels: { env: test }
              - url: {{targets.Address}}/hang/debug/pprof/
                service: hang
              - url: {{targets.Address}}/broken/debug/pprof/
                service: broken
              - url: {{down}}/debug/pprof/
                service: down
            """,
            ct);
        var captured = new FakeLoggerProvider();
        using var logging = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(captured));

        var result = await CliRunner.RunAsync(["scrape", "--config", config, "--once"], ct, logging);

        Assert.True(result.ExitCode == 1, result.ToString());
        foreach (var type in new[] { "cpu", "heap", "goroutine", "trace" })
        {
            var stored = await collector.FindAsync("good", type, ct);
            var profile = Assert.Single(stored);
            Assert.Equal([new Client.ProfileLabel("env", "test")], profile.Labels);
        }

        Assert.Contains(result.OutputLines, l => l == $"{targets.Address}/good/debug/pprof/ cpu: taken 1, pushed 1, take failures 0, push failures 0, push retries 0, empty 0, bytes {TestData.Read("go/cpu_hash_01.pb.gz").Length}");
        Assert.Contains(result.OutputLines, l => l.StartsWith($"{targets.Address}/hang/debug/pprof/ heap: taken 0, pushed 0, take failures 1,", StringComparison.Ordinal));
        Assert.Contains(result.OutputLines, l => l.StartsWith($"{targets.Address}/broken/debug/pprof/ heap: taken 0, pushed 0, take failures 1,", StringComparison.Ordinal));
        Assert.Contains(result.OutputLines, l => l.StartsWith($"{down}/debug/pprof/ heap: taken 0, pushed 0, take failures 1,", StringComparison.Ordinal));
        Assert.Contains(captured.Collector.GetSnapshot(), r => r.Id.Id == CliEventIds.TakeFailed && r.Message.Contains($"{targets.Address}/hang/debug/pprof/", StringComparison.Ordinal) && r.Message.Contains("did not answer within 2s", StringComparison.Ordinal));
        Assert.Contains(captured.Collector.GetSnapshot(), r => r.Id.Id == CliEventIds.TakeFailed && r.Message.Contains("answered 500 Internal Server Error: Could not enable CPU profiling: boom", StringComparison.Ordinal));
        Assert.Contains(captured.Collector.GetSnapshot(), r => r.Id.Id == CliEventIds.TakeFailed && r.Message.Contains(down, StringComparison.Ordinal) && r.Message.Contains("Connection refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Scrape_KeepsTakingFromGoodTarget_WhileOthersHangFailOrAreDown()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var collector = await TestCollector.StartAsync();
        await using var targets = await StubTargets.StartAsync(ct);
        // The hanging target's timeout is far longer than the test waits: only independent loops let the good one through.
        var config = await WriteConfigAsync(
            $$"""
            collector: {{collector.AddressText}}
            timeout: 5m
            profiles:
              heap: { interval: 1s }
            targets:
              - url: {{targets.Address}}/good/debug/pprof/
                service: good
              - url: {{targets.Address}}/hang/debug/pprof/
                service: hang
              - url: {{targets.Address}}/broken/debug/pprof/
                service: broken
              - url: 127.0.0.1:{{FreePort.Next()}}
                service: down
            """,
            ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var captured = new FakeLoggerProvider();
        using var logging = LoggerFactory.Create(b => b.AddProvider(captured));

        var scrape = CliRunner.RunAsync(["scrape", "--config", config], stop.Token, logging);
        var arrived = 0;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (arrived < 3 && DateTime.UtcNow < deadline && !scrape.IsCompleted)
        {
            await Task.Delay(200, ct);
            arrived = (await collector.FindAsync("good", "heap", ct)).Count;
        }

        await stop.CancelAsync();
        var result = await scrape;

        Assert.True(arrived >= 3, $"only {arrived} profiles of the good target arrived\n{result}\n{string.Join('\n', captured.Collector.GetSnapshot())}");
        Assert.Equal(0, result.ExitCode);
        Assert.Empty(await collector.FindAsync("hang", null, ct));
        Assert.Contains(captured.Collector.GetSnapshot(), r => r.Id.Id == CliEventIds.TakeFailed && r.Message.Contains("/broken/debug/pprof/", StringComparison.Ordinal));
        Assert.Contains(captured.Collector.GetSnapshot(), r => r.Id.Id == CliEventIds.Counters && r.Message.Contains("/good/debug/pprof/ heap: taken ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Scrape_FollowsTargetFile_WhenItChanges()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var collector = await TestCollector.StartAsync();
        await using var targets = await StubTargets.StartAsync(ct);
        var targetFile = Path.Combine(_directory, "targets.yaml");
        await File.WriteAllTextAsync(targetFile, "[]", ct);
        var config = Path.Combine(_directory, "scrape.yaml");
        await File.WriteAllTextAsync(
            config,
            $$"""
            collector: {{collector.AddressText}}
            target_files_refresh: 200ms
            profiles:
              goroutine: { interval: 1s }
            target_files: [targets.yaml]
            """,
            ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var captured = new FakeLoggerProvider();
        using var logging = LoggerFactory.Create(b => b.AddProvider(captured));
        var scrape = CliRunner.RunAsync(["scrape", "--config", config], stop.Token, logging);
        await File.WriteAllTextAsync(targetFile, $"- url: {targets.Address}/good/debug/pprof/\n  service: discovered\n", ct);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await collector.FindAsync("discovered", "goroutine", ct)).Count == 0 && DateTime.UtcNow < deadline && !scrape.IsCompleted)
        {
            await Task.Delay(200, ct);
        }

        // A broken rewrite keeps the targets that were there.
        await File.WriteAllTextAsync(targetFile, "- url: [", ct);
        var broken = DateTime.UtcNow.AddSeconds(30);
        while (!captured.Collector.GetSnapshot().Any(r => r.Id.Id == CliEventIds.TargetFileFailed) && DateTime.UtcNow < broken)
        {
            await Task.Delay(100, ct);
        }

        var removedAfterBrokenFile = captured.Collector.GetSnapshot().Any(r => r.Id.Id == CliEventIds.TargetRemoved);

        // An empty list stops the target.
        await File.WriteAllTextAsync(targetFile, "[ ]", ct);
        var emptied = DateTime.UtcNow.AddSeconds(30);
        while (!captured.Collector.GetSnapshot().Any(r => r.Id.Id == CliEventIds.TargetRemoved) && DateTime.UtcNow < emptied)
        {
            await Task.Delay(100, ct);
        }

        await stop.CancelAsync();
        var result = await scrape;

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.NotEmpty(await collector.FindAsync("discovered", "goroutine", ct));
        Assert.Contains(captured.Collector.GetSnapshot(), r => r.Id.Id == CliEventIds.TargetAdded && r.Message.Contains("/good/debug/pprof/ (discovered)", StringComparison.Ordinal));
        Assert.Contains(captured.Collector.GetSnapshot(), r => r.Id.Id == CliEventIds.TargetFileFailed && r.Message.Contains(targetFile, StringComparison.Ordinal));
        Assert.False(removedAfterBrokenFile, "a broken target file stopped its targets");
        Assert.Contains(captured.Collector.GetSnapshot(), r => r.Id.Id == CliEventIds.TargetRemoved && r.Message.Contains("/good/debug/pprof/ (discovered) removed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ScrapeOnce_RetriesPush_UntilCollectorComesUp()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var targets = await StubTargets.StartAsync(ct);
        var port = FreePort.Next();
        var config = await WriteConfigAsync(
            $$"""
            collector: http://127.0.0.1:{{port}}
            profiles:
              heap: { interval: 1m }
            targets:
              - url: {{targets.Address}}/good/debug/pprof/
                service: late
            """,
            ct);
        var captured = new FakeLoggerProvider();
        using var logging = LoggerFactory.Create(b => b.AddProvider(captured));

        var scrape = CliRunner.RunAsync(["scrape", "--config", config, "--once"], ct, logging);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!captured.Collector.GetSnapshot().Any(r => r.Id.Id == CliEventIds.PushRetrying) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, ct);
        }

        await using var collector = await TestCollector.StartAsync([new("Collector:Address", $"127.0.0.1:{port}")]);
        var result = await scrape;

        Assert.True(result.ExitCode == 0, result.ToString() + string.Join('\n', captured.Collector.GetSnapshot()));
        Assert.Single(await collector.FindAsync("late", "heap", ct));
        Assert.Contains(captured.Collector.GetSnapshot(), r => r.Id.Id == CliEventIds.PushRetrying && r.Message.Contains("cannot reach the collector", StringComparison.Ordinal));
    }

    private async Task<string> WriteConfigAsync(string yaml, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_directory, "scrape.yaml");
        await File.WriteAllTextAsync(path, yaml, cancellationToken);
        return path;
    }
}
