using System.Globalization;
using Profefe.Agent;

namespace Profefe.AgentOverhead;

/// <summary>What runs beside the workers in a phase.</summary>
internal enum Mode
{
    /// <summary>Nothing: the baseline.</summary>
    None,

    /// <summary>A bare EventPipe session with only the sample profiler, its stream read and thrown away: the runtime's floor.</summary>
    Sampler,

    /// <summary>A session with the agent's providers (sampler, loader, JIT, allocations, contention), read and thrown away.</summary>
    Providers,

    /// <summary>The agent's providers, every event parsed (TraceEvent's EventPipeEventSource) and counted; nothing symbolized.</summary>
    Parse,

    /// <summary>The perf-event CPU sampler alone (Linux): every thread's CPU clock at 100 Hz, stacks read and counted, nothing named.</summary>
    Perf,

    /// <summary>The agent itself at defaults (cpu from perf events where available): sessions, rundown, profiles built and uploaded.</summary>
    Agent,

    /// <summary>The agent with perf events off: cpu from EventPipe's sample profiler, as before perf events.</summary>
    AgentEventPipe,
}

internal sealed record BenchOptions(TimeSpan Phase, int Threads, int Repeat, Uri Collector, IReadOnlyList<Mode> Modes, TimeSpan Duration, TimeSpan Tick)
{
    public static BenchOptions Parse(string[] args)
    {
        var phase = TimeSpan.FromSeconds(60);
        var threads = Environment.ProcessorCount;
        var repeat = 1;
        var defaults = new ProfefeAgentOptions();
        var duration = defaults.CpuDuration;
        var tick = defaults.Tick;
        IReadOnlyList<Mode> modes = [Mode.None, Mode.Agent];

        // Nobody listens there: uploads fail and are retried, which costs next to nothing.
        var collector = new Uri("http://127.0.0.1:9/");
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--phase":
                    phase = Seconds(args[i + 1]);
                    break;
                case "--threads":
                    threads = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--repeat":
                    repeat = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--collector":
                    collector = new Uri(args[i + 1]);
                    break;
                case "--modes":
                    modes = [.. args[i + 1].Split(',').Select(m => Enum.Parse<Mode>(m, ignoreCase: true))];
                    break;
                case "--duration":
                    duration = Seconds(args[i + 1]);
                    break;
                case "--tick":
                    tick = Seconds(args[i + 1]);
                    break;
                default:
                    throw new ArgumentException("unknown option " + args[i]);
            }
        }

        return new BenchOptions(phase, threads, repeat, collector, modes, duration, tick);
    }

    private static TimeSpan Seconds(string value) =>
        TimeSpan.FromSeconds(double.Parse(value.TrimEnd('s'), CultureInfo.InvariantCulture));
}
