using Microsoft.Extensions.Logging;

namespace Profefe.Cli.Output;

/// <summary>The long-running commands' log (agent, scrape): one line per event, UTC timestamps, debug when verbose.</summary>
internal static class ConsoleLogging
{
    public static ILoggerFactory Create(bool verbose) => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information)
        .AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            console.UseUtcTimestamp = true;
        }));
}
