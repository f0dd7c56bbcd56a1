using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Profefe.Agent.Collection.PerfEvents;
using Profefe.Agent.Upload;
using Profefe.Pprof;

namespace Profefe.Agent.Tests;

/// <summary>Runs the agent for one round against a process and keeps what it would have pushed.</summary>
internal static class AgentRun
{
    public static Task<IReadOnlyList<PendingProfile>> OneRoundAsync(int processId, ProfileKinds kinds, TimeSpan duration, bool perfEvents = true) =>
        RoundsAsync(processId, kinds, duration, 1, perfEvents, null, null);

    /// <summary>Runs the agent until <paramref name="rounds"/> rounds completed, one right after the other.</summary>
    public static async Task<IReadOnlyList<PendingProfile>> RoundsAsync(
        int processId, ProfileKinds kinds, TimeSpan duration, int rounds, bool perfEvents, ILoggerFactory? logs, PerfEventOpener? perfEventOpener)
    {
        var pushed = new ConcurrentQueue<PendingProfile>();
        var options = new ProfefeAgentOptions
        {
            CollectorAddress = new Uri("http://127.0.0.1:1/"),
            Service = "test",
            ProcessId = processId,
            Profiles = kinds,
            CpuDuration = duration,
            Tick = rounds == 1 ? TimeSpan.FromMinutes(10) : duration,
            PerfEvents = perfEvents,
            Jitter = TimeSpan.Zero,
        };
        options.Labels["host"] = "test-host";
        var agent = ProfefeAgent.StartWith(
            options,
            logs,
            (profile, _) =>
            {
                pushed.Enqueue(profile);
                return Task.FromResult("id");
            },
            null,
            perfEventOpener: perfEventOpener);
        await using (agent)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while (agent.CompletedRounds < rounds)
            {
                await Task.Delay(100, timeout.Token);
            }
        }

        return [.. pushed];
    }

    public static Profile Decode(PendingProfile profile) => ProfileDecoder.Decode(profile.Data);
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EventPipeTests
{
    /// <summary>Tests that profile processes run one at a time: they need the machine's CPUs to themselves.</summary>
    public const string Name = "EventPipe";
}
