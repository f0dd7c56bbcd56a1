using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Extensions.Logging;
using Profefe.Agent.Collection.PerfEvents;

namespace Profefe.Agent.Collection;

/// <summary>What one round asks for.</summary>
/// <param name="PerfEvents">Where the cpu profile may come from perf events; null: always from EventPipe's sample profiler.</param>
internal sealed record RoundSettings(int ProcessId, bool InProcess, ProfileKinds Kinds, TimeSpan Duration, int MaxAllocationEventsPerSecond, PerfEventsSwitch? PerfEvents = null);

/// <summary>
/// Whether an agent's rounds take their cpu samples from perf events. The first round that cannot open them logs why
/// and turns them off for the agent's life: the next rounds use EventPipe's sample profiler without trying again.
/// </summary>
/// <param name="Open">Opens a thread's event; null for perf_event_open itself.</param>
internal sealed class PerfEventsSwitch(PerfEventOpener? Open = null)
{
    public PerfEventOpener? Open { get; } = Open;

    public bool Enabled { get; set; } = true;
}

/// <summary>What one round produced.</summary>
internal sealed record RoundResult(IReadOnlyList<CollectedProfile> Profiles, DateTimeOffset Start, TimeSpan Duration, long ThreadSamples, long AllocationEvents, long AllocationEventsSkipped, long Contentions);

/// <summary>Runs one collection round on the calling thread.</summary>
internal delegate RoundResult RoundRunner(RoundSettings settings, ILogger logger, CancellationToken cancellationToken);

/// <summary>
/// One collection round: a real-time EventPipe session on the target process for the round's duration, its events
/// accumulated by <see cref="RoundRecorder"/> and turned into profiles when the session ends.
/// </summary>
internal static class EventPipeRound
{
    private const string SampleProfilerProvider = "Microsoft-DotNETCore-SampleProfiler";
    private const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";
    private const long GcKeyword = 0x1;
    private const long LoaderKeyword = 0x8;
    private const long JitKeyword = 0x10;
    private const long ContentionKeyword = 0x4000;
    private const long AllocationSamplingKeyword = 0x80000000000;
    private const int BufferSizeMegabytes = 256;
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The session's providers; <paramref name="cpuFromPerfEvents"/> leaves the sample profiler out unless wall needs it.</summary>
    public static IReadOnlyList<EventPipeProvider> ProvidersFor(ProfileKinds kinds, bool cpuFromPerfEvents = false)
    {
        // Loader and JIT at Verbose name the methods compiled while the session runs; without them such frames stay unnamed.
        var keywords = LoaderKeyword | JitKeyword;
        if ((kinds & ProfileKinds.Heap) != 0)
        {
            keywords |= GcKeyword | AllocationSamplingKeyword;
        }

        if ((kinds & ProfileKinds.Mutex) != 0)
        {
            keywords |= ContentionKeyword;
        }

        var providers = new List<EventPipeProvider> { new(RuntimeProvider, EventLevel.Verbose, keywords) };
        if ((kinds & (cpuFromPerfEvents ? ProfileKinds.Wall : ProfileKinds.Cpu | ProfileKinds.Wall)) != 0)
        {
            providers.Add(new EventPipeProvider(SampleProfilerProvider, EventLevel.Informational));
        }

        return providers;
    }

    /// <summary>Runs a round on the calling thread (it blocks for the round's duration); cancelling ends it early.</summary>
    public static RoundResult Run(RoundSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        var client = new DiagnosticsClient(settings.ProcessId);
        using var perf = StartPerfEvents(settings, logger);
        var recorder = new RoundRecorder(settings.Kinds, settings.MaxAllocationEventsPerSecond, settings.InProcess, cpuFromPerfEvents: perf is not null);
        var start = DateTimeOffset.UtcNow;

        // With perf events the methods are named by the rundown at the session's end, which takes the place of the
        // one TraceLog would run at its start: one rundown a round either way.
        using var session = client.StartEventPipeSession(ProvidersFor(settings.Kinds, perf is not null), requestRundown: perf is not null, BufferSizeMegabytes);
        var stopped = 0;
        void StopSession()
        {
            if (Interlocked.Exchange(ref stopped, 1) == 0)
            {
                try
                {
                    session.Stop();
                }
                catch (Exception e) when (e is IOException or ServerNotAvailableException or TimeoutException or ObjectDisposedException or ServerErrorException or UnsupportedCommandException)
                {
                    // The target is gone or the session already ended: the event stream ends either way.
                    Log.SessionStopFailed(logger, e.Message);
                }
            }
        }

        using var source = TraceLog.CreateFromEventPipeSession(
            session, perf is null ? TraceLog.EventPipeRundownConfiguration.Enable(client) : TraceLog.EventPipeRundownConfiguration.None());
        recorder.Subscribe(source);
        var methods = perf is null ? null : new MethodMap();
        methods?.Subscribe(source);
        using var cpuTimes = (settings.Kinds & ProfileKinds.Cpu) != 0 && perf is null ? ThreadCpuTimes.TryStart(settings.ProcessId) : null;
        var started = DateTimeOffset.UtcNow;
        // Stopping makes the runtime flush the session into the stream: it must never run on this thread, the
        // only reader, or a full socket would block the flush and the stop forever.
        using (new Timer(_ => StopSession(), null, settings.Duration, Timeout.InfiniteTimeSpan))
        using (cancellationToken.Register(() => ThreadPool.UnsafeQueueUserWorkItem(_ => StopSession(), null)))
        {
            try
            {
                source.Process();
            }
            catch (Exception e) when (e is IOException or EndOfStreamException or ObjectDisposedException or InvalidOperationException)
            {
                // A target that exits mid-round cuts the stream: keep what arrived.
                Log.SessionStreamEnded(logger, e.Message);
            }
        }

        if (!Task.Run(StopSession, CancellationToken.None).Wait(StopTimeout, CancellationToken.None))
        {
            Log.SessionStopFailed(logger, "no answer from the target");
        }

        var duration = DateTimeOffset.UtcNow - started;
        var cpuReadings = cpuTimes?.Stop();
        var perfStacks = perf?.Stop();
        if (perfStacks is not null)
        {
            Log.PerfEventsRead(logger, perfStacks.Samples, perfStacks.Threads, perfStacks.Lost);
        }
        var resolver = new StackResolver(source.TraceLog, settings.ProcessId, settings.InProcess, methods);
        var profiles = recorder.Build(resolver, start, duration, cpuReadings, perfStacks);
        return new RoundResult(profiles, start, duration, recorder.ThreadSamples + (perfStacks?.Samples ?? 0), recorder.AllocationEvents, recorder.AllocationEventsSkipped, recorder.Contentions);
    }

    private static PerfEventSampler? StartPerfEvents(RoundSettings settings, ILogger logger)
    {
        if (settings.PerfEvents is not { Enabled: true } perfEvents || (settings.Kinds & ProfileKinds.Cpu) == 0)
        {
            return null;
        }

        PerfEventSampler? sampler;
        string? failure;
        try
        {
            sampler = PerfEventSampler.TryStart(settings.ProcessId, out failure, perfEvents.Open);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or IOException or UnauthorizedAccessException)
        {
            // A libc without the calls (or a /proc that hides the process) is one more place without perf events.
            sampler = null;
            failure = e.Message;
        }

        if (sampler is null)
        {
            perfEvents.Enabled = false;
            Log.PerfEventsUnavailable(logger, failure ?? "unknown");
        }

        return sampler;
    }
}
