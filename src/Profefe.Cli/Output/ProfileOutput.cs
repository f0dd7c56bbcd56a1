using System.CommandLine;
using Profefe.Cli.Arguments;

namespace Profefe.Cli.Output;

/// <summary>The -o option of commands that download a profile, and writing the bytes there.</summary>
internal static class ProfileOutput
{
    public static Option<string?> CreateOption() => new("--output", "-o")
    {
        Description = "Write the profile to FILE (\"-\" for stdout)",
        HelpName = "FILE",
    };

    public static async Task WriteAsync(ParseResult parseResult, string? path, byte[] data, CancellationToken cancellationToken)
    {
        if (path is null or "-")
        {
            // Binary on a terminal is never what anyone wants.
            if (path is null && !Console.IsOutputRedirected && ReferenceEquals(parseResult.InvocationConfiguration.Output, Console.Out))
            {
                throw new CliUsageException("the profile is binary: give -o FILE, or redirect stdout");
            }

            var output = parseResult.InvocationConfiguration.Output;
            if (ReferenceEquals(output, Console.Out))
            {
                await using var stdout = Console.OpenStandardOutput();
                await stdout.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // Tests capture output as text; a binary profile there is only checked for its size.
                await output.WriteAsync($"<{data.Length} bytes>").ConfigureAwait(false);
            }

            return;
        }

        await File.WriteAllBytesAsync(path, data, cancellationToken).ConfigureAwait(false);
        await parseResult.InvocationConfiguration.Error.WriteLineAsync($"wrote {data.Length} bytes to {path}").ConfigureAwait(false);
    }
}
