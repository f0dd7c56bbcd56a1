using System.CommandLine;
using Microsoft.Extensions.Logging;
using Profefe.Cli.Commands;

namespace Profefe.Cli.Tests;

/// <summary>Runs the CLI's commands in-process with captured output, the way Program.cs wires them.</summary>
internal static class CliRunner
{
    public static async Task<CliResult> RunAsync(string[] args, CancellationToken cancellationToken, ILoggerFactory? logging = null)
    {
        var root = new RootCommand("profefe (test)");
        root.Subcommands.Add(ScrapeCommand.Create(logging is null ? null : () => new NonDisposingLoggerFactory(logging)));
        root.Subcommands.Add(PushCommand.Create());
        root.Subcommands.Add(ServicesCommand.Create());
        root.Subcommands.Add(FindCommand.Create());
        root.Subcommands.Add(GetCommand.Create());
        root.Subcommands.Add(MergeCommand.Create());
        root.Subcommands.Add(TopCommand.Create());
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>The test owns the factory; the command disposing it must not end the test's capture.</summary>
    private sealed class NonDisposingLoggerFactory(ILoggerFactory inner) : ILoggerFactory
    {
        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public ILogger CreateLogger(string categoryName) => inner.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }
}

internal sealed record CliResult(int ExitCode, string Output, string Error)
{
    public string[] OutputLines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}
