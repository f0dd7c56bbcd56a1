using System.Globalization;
using Profefe.Agent;
using Profefe.AgentOverhead;

// Overhead of the in-process agent on a CPU-bound app (issue 5, acceptance 4): throughput of worker threads that
// spin on arithmetic, without the agent and with it at its defaults (10 s of profiling every minute), and during
// the profiling window alone. Not a test: run it on an otherwise idle machine.
//   dotnet run -c Release --project bench/Profefe.AgentOverhead -- [--phase 60s] [--threads N] [--repeat 1] [--collector URL]
var options = BenchOptions.Parse(args);
Console.WriteLine($"agent overhead: {options.Threads} worker threads on {Environment.ProcessorCount} cores, phases of {options.Phase.TotalSeconds:0} s, {options.Repeat} repetition(s)");
using var workers = new WorkerPool(options.Threads);
workers.Start();

// Let the JIT and the CPU frequency settle before measuring.
Thread.Sleep(TimeSpan.FromSeconds(3));

var baselines = new List<PhaseResult>();
var withAgent = new List<PhaseResult>();
for (var i = 0; i < options.Repeat; i++)
{
    var baseline = workers.Measure(options.Phase, null);
    baselines.Add(baseline);
    Console.WriteLine($"  without agent: {baseline.Rate:N0} units/s, non-worker CPU {baseline.OtherCpuShare:P2} of the process");

    var rounds = new RoundLog();
    var agentOptions = new ProfefeAgentOptions { CollectorAddress = options.Collector, Service = "agent-overhead" };
    var agent = ProfefeAgent.Start(agentOptions, rounds);
    var measured = workers.Measure(options.Phase, rounds);
    await agent.DisposeAsync();
    withAgent.Add(measured);
    Console.WriteLine($"  with agent:    {measured.Rate:N0} units/s ({Loss(baseline.Rate, measured.Rate)}), non-worker CPU {measured.OtherCpuShare:P2}; "
        + $"inside the profiling window {measured.WindowRate:N0} units/s ({Loss(baseline.Rate, measured.WindowRate)}) over {measured.WindowSeconds:0.0} s, "
        + $"outside {measured.OutsideRate:N0} units/s ({Loss(baseline.Rate, measured.OutsideRate)})");
}

workers.Stop();
var baseRate = baselines.Average(r => r.Rate);
var agentRate = withAgent.Average(r => r.Rate);
var windowRate = withAgent.Where(r => r.WindowSeconds > 0).Select(r => r.WindowRate).DefaultIfEmpty(double.NaN).Average();
Console.WriteLine();
Console.WriteLine($"throughput loss at defaults (whole minute): {Loss(baseRate, agentRate)}");
Console.WriteLine($"throughput loss during the 10 s profiling window: {Loss(baseRate, windowRate)}");
Console.WriteLine($"agent's own CPU (non-worker threads, with minus without): {withAgent.Average(r => r.OtherCpuShare) - baselines.Average(r => r.OtherCpuShare):P2} of the process's CPU");
return 0;

static string Loss(double baseline, double measured) =>
    double.IsNaN(measured) ? "n/a" : (1 - (measured / baseline)).ToString("P2", CultureInfo.InvariantCulture) + " loss";
