using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Profefe.Core.Views;
using Profefe.Pprof;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Cli.Tests.Scrape;

/// <summary>Scrapes a real Go program (GoTarget/main.go, built with the installed Go toolchain).</summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
public sealed class GoScrapeTests
{
    private const string HotFunction = "main.hotSpin";

    [Fact]
    public async Task Scrape_PushesGoProfiles_AndMergedCpuTopIsTheHotFunction()
    {
        var ct = TestContext.Current.CancellationToken;
        // Without asynchronous preemption: on a loaded machine many samples otherwise land in runtime.asyncPreempt.
        await using var target = await GoTargetProcess.StartAsync(["-addr", "127.0.0.1:0"], ct, new Dictionary<string, string> { ["GODEBUG"] = "asyncpreemptoff=1" });
        var url = target.Url;
        var work = Directory.CreateTempSubdirectory("profefe-go-").FullName;
        try
        {
            await using var collector = await TestCollector.StartAsync();
            var config = Path.Combine(work, "scrape.yaml");
            await File.WriteAllTextAsync(
                config,
                $$"""
                collector: {{collector.AddressText}}
                timeout: 10s
                profiles:
                  cpu: { interval: 3s, duration: 2s }
                  heap: { interval: 2s }
                  goroutine: { interval: 2s }
                  trace: { interval: 3s, duration: 1s }
                targets:
                  - url: {{url}}
                    service: gotarget
                    labels: { lang: go }
                """,
                ct);

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var captured = new FakeLoggerProvider();
            using var logging = LoggerFactory.Create(b => b.AddProvider(captured));
            var scrape = CliRunner.RunAsync(["scrape", "--config", config], stop.Token, logging);
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (DateTime.UtcNow < deadline && !scrape.IsCompleted && (await collector.FindAsync("gotarget", "cpu", ct)).Count < 2)
            {
                await Task.Delay(500, ct);
            }

            await stop.CancelAsync();
            var result = await scrape;
            var log = result + string.Join('\n', captured.Collector.GetSnapshot());
            Assert.True(result.ExitCode == 0, log);

            Assert.True((await collector.FindAsync("gotarget", "cpu", ct)).Count >= 2, "fewer than two cpu profiles arrived\n" + log);
            foreach (var type in new[] { "heap", "goroutine", "trace" })
            {
                var stored = await collector.FindAsync("gotarget", type, ct);
                Assert.True(stored.Count >= 1, $"no {type} profile arrived\n{log}");
                Assert.All(stored, p => Assert.Equal([new Client.ProfileLabel("lang", "go")], p.Labels));
            }

            var merged = await collector.Api.MergeProfilesAsync(
                new Client.ProfileFilter { Service = "gotarget", Type = "cpu", From = DateTimeOffset.UtcNow.AddHours(-1), To = DateTimeOffset.UtcNow.AddMinutes(1) },
                ct);
            var mergedProfile = ProfileDecoder.Decode(merged);
            var report = TopTableBuilder.Build(mergedProfile, SampleTypeIndex.Resolve(mergedProfile, null), FrameNaming.ByBinary);
            Assert.True(report.Rows[0].Name == HotFunction, string.Join('\n', report.Rows.Take(5).Select(e => $"{e.Name} flat {e.Flat} cum {e.Cum}")));

            // The same through the command line.
            var top = await CliRunner.RunAsync(["top", "-s", "gotarget", "-t", "cpu", "-n", "3", "--collector", collector.AddressText], ct);
            Assert.True(top.ExitCode == 0, top.ToString());
            var lines = top.OutputLines;
            var header = Array.FindIndex(lines, l => l.StartsWith("flat  flat%", StringComparison.Ordinal));
            Assert.EndsWith("  " + HotFunction, lines[header + 1], StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
