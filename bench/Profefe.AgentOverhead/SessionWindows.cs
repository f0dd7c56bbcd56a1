using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Profefe.Agent;
using Profefe.Agent.Collection;
using Profefe.Agent.Collection.PerfEvents;

namespace Profefe.AgentOverhead;

/// <summary>
/// Opens EventPipe sessions (or the perf-event sampler) on this process on the agent's schedule (<see cref="BenchOptions.Duration"/> every
/// <see cref="BenchOptions.Tick"/>) without the agent's work on the events, to show what each layer costs.
/// </summary>
internal sealed class SessionWindows : IDisposable
{
    // The agent waits a random 0-5 s before its first round: the middle of that.
    private static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(2.5);

    private readonly Mode _mode;
    private readonly TimeSpan _duration;
    private readonly TimeSpan _tick;
    private readonly RoundLog _rounds;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _thread;

    public SessionWindows(Mode mode, TimeSpan duration, TimeSpan tick, RoundLog rounds)
    {
        _mode = mode;
        _duration = duration;
        _tick = tick;
        _rounds = rounds;
        _thread = new Thread(Run) { IsBackground = true, Name = "bench session" };
        _thread.Start();
    }

    public long Events { get; private set; }

    public long Bytes { get; private set; }

    public void Dispose()
    {
        _stopping.Cancel();
        _thread.Join();
        _stopping.Dispose();
    }

    private void Run()
    {
        var next = DateTime.UtcNow + FirstDelay;
        while (!_stopping.Token.WaitHandle.WaitOne(Max(next - DateTime.UtcNow, TimeSpan.Zero)))
        {
            next += _tick;
            _rounds.Open();
            OneWindow();
            _rounds.Close();
        }
    }

    private void OneWindow()
    {
        if (_mode == Mode.Perf)
        {
            using var sampler = PerfEventSampler.TryStart(Environment.ProcessId, out var failure)
                ?? throw new InvalidOperationException("perf events are not available: " + failure);
            _stopping.Token.WaitHandle.WaitOne(_duration);
            Events += sampler.Stop().Samples;
            return;
        }

        IReadOnlyList<EventPipeProvider> providers = _mode == Mode.Sampler
            ? [new EventPipeProvider("Microsoft-DotNETCore-SampleProfiler", EventLevel.Informational)]
            : EventPipeRound.ProvidersFor(new ProfefeAgentOptions().Profiles);
        var client = new DiagnosticsClient(Environment.ProcessId);
        using var session = client.StartEventPipeSession(providers, requestRundown: false, circularBufferMB: 256);
        using var stop = new Timer(_ => session.Stop(), null, _duration, Timeout.InfiniteTimeSpan);
        if (_mode == Mode.Parse)
        {
            using var source = new EventPipeEventSource(session.EventStream);
            source.AllEvents += _ => Events++;
            source.Process();
            return;
        }

        var buffer = new byte[64 * 1024];
        int read;
        while ((read = session.EventStream.Read(buffer)) > 0)
        {
            Bytes += read;
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
