using System.Globalization;
using Profefe.Agent;
using Profefe.Agent.TestApp;

// A program with a known behaviour for the agent's tests:
//   cpu|alloc|lock|sleep SECONDS [--agent COLLECTOR_URL --duration SECONDS]
// prints "ready" once its workload runs, runs for SECONDS, and exits 0. With --agent it profiles itself in-process
// (one round of --duration seconds) and pushes the profiles to COLLECTOR_URL.
if (args.Length < 2 || !double.TryParse(args[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
{
    Console.Error.WriteLine("usage: Profefe.Agent.TestApp cpu|alloc|lock|sleep SECONDS [--agent URL --duration SECONDS]");
    return 2;
}

Workload workload = args[0] switch
{
    "cpu" => new CpuWorkload(),
    "alloc" => new AllocationWorkload(),
    "lock" => new LockWorkload(),
    "sleep" => new SleepWorkload(),
    _ => throw new ArgumentException("unknown workload " + args[0]),
};

ProfefeAgent? agent = null;
var agentAt = Array.IndexOf(args, "--agent");
if (agentAt > 0)
{
    var durationAt = Array.IndexOf(args, "--duration");
    var duration = durationAt > 0 ? double.Parse(args[durationAt + 1], CultureInfo.InvariantCulture) : 2;
    var options = new ProfefeAgentOptions
    {
        CollectorAddress = new Uri(args[agentAt + 1]),
        Service = "testapp-" + args[0],
        CpuDuration = TimeSpan.FromSeconds(duration),
        Tick = TimeSpan.FromMinutes(10),
        Jitter = TimeSpan.Zero,
        Profiles = ProfileKinds.All,
        StopTimeout = TimeSpan.FromSeconds(10),
    };
    options.Labels["mode"] = "inprocess";
    agent = ProfefeAgent.Start(options);
}

using var stop = new CancellationTokenSource();
var threads = workload.Start(stop.Token);
Console.WriteLine("ready");
Console.Out.Flush();
Thread.Sleep(TimeSpan.FromSeconds(seconds));
if (agent is not null)
{
    // Wait for the round to finish before stopping, so the in-process test sees a full round.
    while (agent.CompletedRounds == 0 && agent.IsRunning)
    {
        Thread.Sleep(100);
    }

    await agent.DisposeAsync();
}

stop.Cancel();
foreach (var thread in threads)
{
    thread.Join();
}

Console.WriteLine("done");
return 0;
