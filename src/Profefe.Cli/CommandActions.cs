using System.CommandLine;
using Profefe.Client;
using Profefe.Pprof;

namespace Profefe.Cli;

/// <summary>Runs a command's body so that every failure ends as one readable line on stderr and exit code 1.</summary>
internal static class CommandActions
{
    public const int Failed = 1;

    public static void SetAction(Command command, Func<ParseResult, CancellationToken, Task<int>> body)
    {
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                return await body(parseResult, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await error.WriteLineAsync($"profefe {command.Name}: interrupted").ConfigureAwait(false);
                return 130;
            }
            catch (Exception e)
            {
                // Users get one line, never a stack trace; an unexpected failure names its type to make reports useful.
                var message = IsExpected(e) ? e.Message : $"unexpected {e.GetType().Name}: {e.Message}";
                await error.WriteLineAsync($"profefe {command.Name}: {OneLine(message)}").ConfigureAwait(false);
                return Failed;
            }
        });
    }

    public static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    private static bool IsExpected(Exception e) =>
        e is ProfefeApiException or CliUsageException or FormatException or ProfileFormatException
            or IOException or UnauthorizedAccessException or InvalidDataException or HttpRequestException
            or YamlDotNet.Core.YamlException or Scrape.ScrapeConfigException or Scrape.Kubernetes.PodDiscoveryException or ArgumentException;
}
