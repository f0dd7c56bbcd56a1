using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Extensions.Logging;
using Profefe.Agent;
using Profefe.Cli.Arguments;
using Profefe.Cli.Output;

namespace Profefe.Cli.Commands;

/// <summary>
/// <c>profefe agent</c>: the sidecar. Attaches to a running .NET process over its diagnostics socket, profiles it
/// continuously and pushes the profiles to the collector; nothing in the target changes.
/// </summary>
internal static class AgentCommand
{
    private static readonly TimeSpan WaitForTargetInterval = TimeSpan.FromSeconds(1);

    public static Command Create(Func<ILoggerFactory>? loggerFactory = null)
    {
        var command = new Command("agent", "Profile a running .NET process over its diagnostics socket and push cpu, heap and mutex profiles to the collector");
        var pid = new Option<int?>("--pid", "-p") { Description = "The process to profile; the agent exits when it exits", HelpName = "PID" };
        var processName = new Option<string?>("--process-name", "-n")
        {
            Description = "Profile the .NET process with this name (or running this .dll); when it exits, wait for the next one and attach again",
            HelpName = "NAME",
        };
        var service = new Option<string>("--service", "-s") { Description = "The service the profiles belong to", HelpName = "NAME", Required = true };
        var labels = new Option<string[]>("--label", "-l") { Description = "A label for every profile (repeatable)", HelpName = "KEY=VALUE" };
        var tick = new Option<string>("--tick") { Description = "Time between profiling rounds", HelpName = "DURATION", DefaultValueFactory = _ => "1m" };
        var duration = new Option<string>("--duration") { Description = "How long each round profiles", HelpName = "DURATION", DefaultValueFactory = _ => "10s" };
        var profiles = new Option<string>("--profiles")
        {
            Description = "Which profiles to collect, comma-separated: cpu, wall, heap, mutex",
            HelpName = "LIST",
            DefaultValueFactory = _ => "cpu,heap,mutex",
        };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every round and push, not only problems" };
        var collector = CollectorConnection.CreateCollectorOption();
        command.Options.Add(pid);
        command.Options.Add(processName);
        command.Options.Add(service);
        command.Options.Add(labels);
        command.Options.Add(tick);
        command.Options.Add(duration);
        command.Options.Add(profiles);
        command.Options.Add(verbose);
        command.Options.Add(collector);
        CommandActions.SetAction(command, async (parseResult, cancellationToken) =>
        {
            var target = parseResult.GetValue(pid);
            var name = parseResult.GetValue(processName)?.Trim();
            if (target is null == string.IsNullOrEmpty(name))
            {
                throw new CliUsageException("give exactly one of --pid and --process-name");
            }

            var options = new ProfefeAgentOptions
            {
                CollectorAddress = CollectorConnection.ParseAddress(parseResult.GetValue(collector)),
                Service = parseResult.GetRequiredValue(service).Trim(),
                Tick = ParseDuration("--tick", parseResult.GetValue(tick)),
                CpuDuration = ParseDuration("--duration", parseResult.GetValue(duration)),
                Profiles = ParseProfiles(parseResult.GetValue(profiles)),

                // Short enough to finish inside the command line's termination grace after Ctrl-C or SIGTERM.
                StopTimeout = TimeSpan.FromSeconds(2),
            };
            foreach (var label in LabelArgument.ParseAll(parseResult.GetValue(labels)))
            {
                options.Labels[label.Key] = label.Value;
            }

            if (new ProfefeAgentOptionsValidator().Validate(null, options) is { Failed: true } invalid)
            {
                throw new CliUsageException(invalid.FailureMessage);
            }

            using var logging = loggerFactory?.Invoke() ?? ConsoleLogging.Create(parseResult.GetValue(verbose));
            var output = parseResult.InvocationConfiguration.Output;
            return target is { } processId
                ? await RunForProcessAsync(processId, options, logging, output, cancellationToken).ConfigureAwait(false)
                : await RunForNameAsync(name!, options, logging, output, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Profiles one process until it exits or the command is interrupted.</summary>
    private static async Task<int> RunForProcessAsync(int processId, ProfefeAgentOptions options, ILoggerFactory logging, TextWriter output, CancellationToken cancellationToken)
    {
        using var process = OpenProcess(processId) ?? throw new CliUsageException($"no process with id {processId}");
        if (!IsDotnetProcess(processId))
        {
            throw new CliUsageException($"process {processId} is not a .NET process with diagnostics enabled (no diagnostics socket; is DOTNET_EnableDiagnostics=0 set?)");
        }

        await ProfileUntilExitAsync(process, options, logging, output, cancellationToken).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Profiles every process with the name in turn: a restarted target is attached to again.</summary>
    private static async Task<int> RunForNameAsync(string name, ProfefeAgentOptions options, ILoggerFactory logging, TextWriter output, CancellationToken cancellationToken)
    {
        var waiting = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            using var process = FindProcess(name);
            if (process is null)
            {
                if (!waiting)
                {
                    await output.WriteLineAsync($"waiting for a .NET process named {name}").ConfigureAwait(false);
                    waiting = true;
                }

                try
                {
                    await Task.Delay(WaitForTargetInterval, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }

            waiting = false;
            await ProfileUntilExitAsync(process, options, logging, output, cancellationToken).ConfigureAwait(false);
        }

        return 0;
    }

    private static async Task ProfileUntilExitAsync(Process process, ProfefeAgentOptions options, ILoggerFactory logging, TextWriter output, CancellationToken cancellationToken)
    {
        options.ProcessId = process.Id;
        await output.WriteLineAsync($"profiling process {process.Id} ({SafeName(process)}) as service {options.Service}, pushing to {options.CollectorAddress}").ConfigureAwait(false);
        var agent = ProfefeAgent.Start(options, logging);
        await using (agent.ConfigureAwait(false))
        {
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"process {process.Id} exited").ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await output.WriteLineAsync("stopping").ConfigureAwait(false);
            }
        }
    }

    /// <summary>The first .NET process (other than this one) whose name, or the .dll it runs, is <paramref name="name"/>.</summary>
    internal static Process? FindProcess(string name)
    {
        foreach (var processId in DiagnosticsClient.GetPublishedProcesses())
        {
            if (processId == Environment.ProcessId || !IsProcess(processId))
            {
                continue;
            }

            var process = OpenProcess(processId);
            if (process is null)
            {
                continue;
            }

            if (string.Equals(SafeName(process), name, StringComparison.Ordinal) || CommandLineNames(processId).Contains(name, StringComparer.Ordinal))
            {
                return process;
            }

            process.Dispose();
        }

        return null;
    }

    private static bool IsDotnetProcess(int processId) => DiagnosticsClient.GetPublishedProcesses().Contains(processId);

    /// <summary>
    /// Whether <paramref name="id"/> is a process, not a thread of one. The published ids come from the diagnostic
    /// sockets' file names, and a process killed without cleanup leaves its socket behind; once its id is reused by a
    /// thread (Linux numbers both alike, and /proc/ID answers for threads with their process's command line), that
    /// thread would pass for the process, and attaching through the stale socket is refused until it exits.
    /// </summary>
    internal static bool IsProcess(int id)
    {
        if (!OperatingSystem.IsLinux())
        {
            return true;
        }

        try
        {
            foreach (var line in File.ReadLines($"/proc/{id.ToString(CultureInfo.InvariantCulture)}/status"))
            {
                if (line.StartsWith("Tgid:", StringComparison.Ordinal))
                {
                    return int.TryParse(line.AsSpan(5).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var group) && group == id;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone.
        }

        return false;
    }

    /// <summary>What <c>dotnet app.dll</c> runs: the names (without extension) of its first two arguments.</summary>
    private static IEnumerable<string> CommandLineNames(int processId)
    {
        string[] arguments;
        try
        {
            arguments = File.ReadAllText($"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break;
        }

        foreach (var argument in arguments.Take(2))
        {
            yield return Path.GetFileNameWithoutExtension(argument);
        }
    }

    private static Process? OpenProcess(int processId)
    {
        try
        {
            var process = Process.GetProcessById(processId);
            if (!process.HasExited)
            {
                return process;
            }

            process.Dispose();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // Not running (any more).
        }

        return null;
    }

    private static string SafeName(Process process)
    {
        try
        {
            return process.ProcessName;
        }
        catch (InvalidOperationException)
        {
            return "exited";
        }
    }

    private static TimeSpan ParseDuration(string option, string? text) =>
        GoDuration.TryParse(text, out var value) && value > TimeSpan.Zero
            ? value
            : throw new CliUsageException($"invalid {option} \"{text}\" (expected a positive duration such as 10s or 1m)");

    internal static ProfileKinds ParseProfiles(string? text)
    {
        var kinds = ProfileKinds.None;
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            kinds |= part switch
            {
                "cpu" => ProfileKinds.Cpu,
                "wall" => ProfileKinds.Wall,
                "heap" => ProfileKinds.Heap,
                "mutex" => ProfileKinds.Mutex,
                _ => throw new CliUsageException($"unknown profile \"{part}\" in --profiles (expected cpu, wall, heap, mutex)"),
            };
        }

        return kinds == ProfileKinds.None ? throw new CliUsageException("--profiles names no profile") : kinds;
    }
}
