using System.Globalization;
using Profefe.Agent;
using Profefe.AgentOverhead;

// Overhead of the in-process agent on a CPU-bound app (issue 5, acceptance 4; issue 18): throughput of worker threads
// that spin on arithmetic, in phases that alternate what runs beside them (--modes, in that order, every repetition):
// nothing, a bare sample-profiler session (the runtime's floor), the agent's providers unparsed, parsed without
// symbolizing, the perf-event CPU sampler alone, the agent itself (cpu from perf events where available) and the agent
// with perf events off (cpu from EventPipe's sampler), each on the agent's schedule (--duration of profiling every --tick; the agent's
// defaults unless given). Losses are against the average of the `none` phases, whole phase and inside the windows.
// Not a test: run it on an otherwise idle machine, or alternate enough repetitions to read ratios.
//   dotnet run -c Release --project bench/Profefe.AgentOverhead -- [--phase 60s] [--threads N] [--repeat 1]
//     [--modes none,sampler,providers,parse,perf,agent,agenteventpipe] [--duration 10s] [--tick 60s] [--collector URL]
var options = BenchOptions.Parse(args);
Console.WriteLine($"agent overhead: {options.Threads} worker threads on {Environment.ProcessorCount} cores, phases of {options.Phase.TotalSeconds:0} s, "
    + $"{options.Duration.TotalSeconds:0.#} s of profiling every {options.Tick.TotalSeconds:0.#} s, modes {string.Join(',', options.Modes)}, {options.Repeat} repetition(s)");
using var workers = new WorkerPool(options.Threads);
workers.Start();

// Let the JIT and the CPU frequency settle before measuring.
Thread.Sleep(TimeSpan.FromSeconds(3));

var results = new Dictionary<Mode, List<PhaseResult>>();
for (var i = 0; i < options.Repeat; i++)
{
    foreach (var mode in options.Modes)
    {
        var measured = await MeasureAsync(mode);
        if (!results.TryGetValue(mode, out var list))
        {
            results[mode] = list = [];
        }

        list.Add(measured);
        Console.WriteLine($"  {i + 1} {mode,-9} {measured.Rate,14:N0} units/s, non-worker CPU {measured.OtherCpuShare,6:P2}"
            + (measured.WindowSeconds > 0 ? $"; window {measured.WindowRate:N0} units/s over {measured.WindowSeconds:0.0} s, outside {measured.OutsideRate:N0} units/s" : "")
            + $"; workers held {measured.WindowHeld:P2} in the window, {measured.OutsideHeld:P2} outside; other threads' CPU {measured.WindowOtherCpu:P2} / {measured.OutsideOtherCpu:P2} of the cores"
            + $"  (load {LoadAverage()})");
    }
}

workers.Stop();
if (!results.TryGetValue(Mode.None, out var baselines))
{
    return 0;
}

var baseRate = baselines.Average(r => r.Rate);
var share = options.Duration / options.Tick;

// On an idle machine the workers lose the time the runtime holds them and the CPU the other threads take from them;
// both are read from the kernel's per-thread accounting, so they hold on a loaded machine where throughput does not.
var baseCost = Average(baselines, r => r.OutsideHeld + r.OutsideOtherCpu);
Console.WriteLine();
Console.WriteLine($"| mode | workers held (window) | other threads' CPU (window) | cost in the window | cost over the {options.Tick.TotalSeconds:0} s tick (window {share:P0}) | throughput loss: window / tick |");
Console.WriteLine("|---|---|---|---|---|---|");
foreach (var (mode, list) in results)
{
    var window = Average(list, r => r.WindowRate);
    var outside = Average(list, r => r.OutsideRate);
    var windowCost = Average(list, r => r.WindowHeld + r.WindowOtherCpu) - baseCost;
    var outsideCost = Average(list, r => r.OutsideHeld + r.OutsideOtherCpu) - baseCost;

    // The whole tick from the window's and outside's figures, so that a phase shorter than the tick still says it.
    var whole = double.IsNaN(window) ? Average(list, r => r.Rate) : (share * window) + ((1 - share) * (double.IsNaN(outside) ? baseRate : outside));
    var wholeCost = double.IsNaN(windowCost) ? double.NaN : (share * windowCost) + ((1 - share) * (double.IsNaN(outsideCost) ? 0 : outsideCost));
    Console.WriteLine($"| {mode} | {Percent(Average(list, r => r.WindowHeld))} | {Percent(Average(list, r => r.WindowOtherCpu))} | {Percent(windowCost)} | {Percent(wholeCost)} | {Loss(baseRate, window)} / {Loss(baseRate, whole)} |");
}

Console.WriteLine($"(baseline: workers held {Percent(Average(baselines, r => r.OutsideHeld))}, other threads' CPU {Percent(Average(baselines, r => r.OutsideOtherCpu))})");

Console.WriteLine($"(load average {LoadAverage()})");
return 0;

async Task<PhaseResult> MeasureAsync(Mode mode)
{
    var rounds = new RoundLog();
    switch (mode)
    {
        case Mode.None:
            return workers.Measure(options.Phase, null);
        case Mode.Agent or Mode.AgentEventPipe:
            var agentOptions = new ProfefeAgentOptions
            {
                CollectorAddress = options.Collector,
                Service = "agent-overhead",
                CpuDuration = options.Duration,
                Tick = options.Tick,
                PerfEvents = mode == Mode.Agent,
            };
            var agent = ProfefeAgent.Start(agentOptions, rounds);
            var measured = workers.Measure(options.Phase, rounds);
            await agent.DisposeAsync();
            return measured;
        default:
            using (new SessionWindows(mode, options.Duration, options.Tick, rounds))
            {
                return workers.Measure(options.Phase, rounds);
            }
    }
}

static double Average(List<PhaseResult> list, Func<PhaseResult, double> value) =>
    list.Select(value).Where(v => !double.IsNaN(v)).DefaultIfEmpty(double.NaN).Average();

static string Loss(double baseline, double measured) => Percent(1 - (measured / baseline));

static string Percent(double share) => double.IsNaN(share) ? "n/a" : share.ToString("P2", CultureInfo.InvariantCulture);

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
