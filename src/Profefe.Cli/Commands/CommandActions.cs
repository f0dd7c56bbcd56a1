using System.CommandLine;
using Profefe.Cli.Arguments;
using Profefe.Client;
using Profefe.Core.Storage;
using Profefe.Pprof;

namespace Profefe.Cli.Commands;

/// <summary>
/// Runs a command's body so that every failure ends as one readable line on stderr and exit code 1; the
/// stack trace follows only with --verbose.
/// </summary>
internal static class CommandActions
{
    public const int Failed = 1;

    public const string VerboseName = "--verbose";

    public static void SetAction(Command command, Func<ParseResult, CancellationToken, Task<int>> body)
    {
        // Commands with a --verbose of their own (scrape: log every push) share it; the others get one here.
        if (!command.Options.Any(option => option.Name == VerboseName))
        {
            command.Options.Add(new Option<bool>(VerboseName) { Description = "On failure, print the full error with its stack trace" });
        }

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
                // Users get one line; an unexpected failure names its type to make reports useful.
                var message = IsExpected(e) ? MessageOf(e) : $"unexpected {e.GetType().Name}: {e.Message}";
                await error.WriteLineAsync($"profefe {command.Name}: {OneLine(message)}").ConfigureAwait(false);
                if (IsVerbose(parseResult))
                {
                    // A usage error only rewords its cause; the cause's trace is the one worth reading.
                    var cause = e is CliUsageException { InnerException: { } inner } ? inner : e;
                    await error.WriteLineAsync(cause.ToString()).ConfigureAwait(false);
                }

                return Failed;
            }
        });
    }

    public static bool IsVerbose(ParseResult parseResult) => parseResult.GetValue<bool>(VerboseName);

    public static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    /// <summary>The message without .NET's " (Parameter 'name')" suffix, which names a variable the user never saw.</summary>
    private static string MessageOf(Exception e) =>
        e is ArgumentException { ParamName: { } name } argument
            ? argument.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal)
            : e.Message;

    private static bool IsExpected(Exception e) =>
        e is ProfefeApiException or CliUsageException or FormatException or ProfileFormatException
            or IOException or UnauthorizedAccessException or InvalidDataException or HttpRequestException
            or YamlDotNet.Core.YamlException or Scrape.ScrapeConfigException or Scrape.Kubernetes.PodDiscoveryException or ArgumentException
            or StorageUnavailableException;
}
