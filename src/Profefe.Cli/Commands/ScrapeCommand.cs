using System.CommandLine;
using Microsoft.Extensions.Logging;
using Profefe.Cli.Output;
using Profefe.Cli.Scrape;
using Profefe.Cli.Scrape.Kubernetes;

namespace Profefe.Cli.Commands;

/// <summary><c>profefe scrape</c>: pulls profiles from Go programs' /debug/pprof/ endpoints and pushes them to the collector.</summary>
internal static class ScrapeCommand
{
    public static Command Create(Func<ILoggerFactory>? loggerFactory = null)
    {
        var command = new Command("scrape", "Take profiles from Go programs' /debug/pprof/ endpoints (listed, or discovered as annotated Kubernetes pods) continuously and push them to the collector");
        var config = new Option<string>("--config", "-c") { Description = "The scrape config (YAML)", HelpName = "FILE", Required = true };
        var once = new Option<bool>("--once") { Description = "Take every profile once, push, print a summary and exit (exit code 1 if anything failed)" };
        var collector = new Option<string?>("--collector")
        {
            Description = $"The collector's address; overrides the config's \"collector\", which overrides env {CollectorConnection.EnvironmentVariable} and the default {CollectorConnection.DefaultAddress}",
            HelpName = "URL",
        };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every push, not only failures" };
        command.Options.Add(config);
        command.Options.Add(once);
        command.Options.Add(collector);
        command.Options.Add(verbose);
        CommandActions.SetAction(command, async (parseResult, cancellationToken) =>
        {
            var scrapeConfig = ScrapeConfigLoader.Load(parseResult.GetRequiredValue(config));
            var collectorText = parseResult.GetValue(collector);
            var collectorUri = !string.IsNullOrWhiteSpace(collectorText) ? CollectorConnection.ParseAddress(collectorText)
                : scrapeConfig.Collector ?? CollectorConnection.ParseAddress(null);
            using var logging = loggerFactory?.Invoke() ?? ConsoleLogging.Create(parseResult.GetValue(verbose));
            var logger = logging.CreateLogger("Profefe.Cli.Scrape");
            using var collectorHttp = CollectorConnection.CreateHttpClient(collectorUri, scrapeConfig.PushTimeout);
            using var targetHttp = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = scrapeConfig.Timeout })
            {
                Timeout = Timeout.InfiniteTimeSpan,
            };
            using var stats = new ScrapeStats();
            var settings = new ScrapeSettings(CollectorConnection.CreateClient(collectorHttp), targetHttp, scrapeConfig.Timeout, scrapeConfig.Jitter, TimeProvider.System);
            using var kubernetes = scrapeConfig.Kubernetes is null ? null : KubernetesConnection.CreateClient(scrapeConfig.Kubernetes);
            var pods = kubernetes is null ? null : new PodWatcher(kubernetes, scrapeConfig.Kubernetes!, scrapeConfig.Defaults, TimeProvider.System, logger);
            var scraper = new Scraper(scrapeConfig, settings, stats, logger, pods);
            if (parseResult.GetValue(once))
            {
                var ok = await scraper.RunOnceAsync(cancellationToken).ConfigureAwait(false);
                var output = parseResult.InvocationConfiguration.Output;
                foreach (var line in stats.Summary())
                {
                    await output.WriteLineAsync(line).ConfigureAwait(false);
                }

                return ok ? 0 : CommandActions.Failed;
            }

            await scraper.RunAsync(TimeSpan.FromMinutes(5), cancellationToken).ConfigureAwait(false);
            scraper.LogCounters();
            return 0;
        });
        return command;
    }
}
