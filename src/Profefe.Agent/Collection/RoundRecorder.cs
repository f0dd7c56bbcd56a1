using System.Runtime.InteropServices;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.EventPipe;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;
using Profefe.Agent.Collection.PerfEvents;
using Profefe.Pprof;

namespace Profefe.Agent.Collection;

/// <summary>
/// Accumulates one round's events by interned call stack: the callbacks only count, names are resolved once at the
/// end of the round, so the per-event cost stays a dictionary update.
/// </summary>
internal sealed class RoundRecorder
{
    /// <summary>Mean distance in bytes between two allocation samples of .NET 10's AllocationSampled event.</summary>
    internal const double AllocationSamplingDistance = 100 * 1024;

    private readonly ProfileKinds _kinds;
    private readonly int _maxAllocationEventsPerSecond;
    private readonly List<ThreadSample> _threadSamples = [];
    private readonly Dictionary<int, int> _samplesPerThread = [];
    private readonly Dictionary<(int Stack, ulong Type), AllocationTotals> _sampledAllocations = [];
    private readonly Dictionary<(int Stack, ulong Type), AllocationTotals> _tickAllocations = [];
    private readonly Dictionary<ulong, string> _typeNames = [];
    private readonly Dictionary<int, int> _pendingContentions = [];
    private readonly Dictionary<int, (long Count, long DelayNanos)> _contentions = [];

    // Allocation events are thinned per second of trace time: every Nth event counts N times.
    private long _allocationWindow = -1;
    private int _allocationEventsInWindow;
    private int _allocationStride = 1;

    private readonly bool _inProcess;
    private readonly ProfileKinds _sampledKinds;
    private DateTime _sessionStartUtc;

    /// <param name="cpuFromPerfEvents">The cpu profile comes from perf events: thread samples serve wall only.</param>
    public RoundRecorder(ProfileKinds kinds, int maxAllocationEventsPerSecond, bool inProcess, bool cpuFromPerfEvents = false)
    {
        _kinds = kinds;
        _sampledKinds = kinds & (cpuFromPerfEvents ? ProfileKinds.Wall : ProfileKinds.Cpu | ProfileKinds.Wall);
        _inProcess = inProcess;
        _maxAllocationEventsPerSecond = maxAllocationEventsPerSecond;
    }

    public long ThreadSamples { get; private set; }

    public long AllocationEvents { get; private set; }

    public long AllocationEventsSkipped { get; private set; }

    public long Contentions { get; private set; }

    public void Subscribe(TraceLogEventSource source)
    {
        if (_sampledKinds != 0)
        {
            var sampleProfiler = new SampleProfilerTraceEventParser(source);
            sampleProfiler.ThreadSample += OnThreadSample;
        }

        if ((_kinds & ProfileKinds.Heap) != 0)
        {
            source.Clr.GCAllocationTick += OnAllocationTick;
            source.Clr.AllocationSampling += OnAllocationSampled;
        }

        if ((_kinds & ProfileKinds.Mutex) != 0)
        {
            source.Clr.ContentionStart += OnContentionStart;
            source.Clr.ContentionStop += OnContentionStop;
        }
    }

    internal void OnThreadSample(ClrThreadSampleTraceData data)
    {
        if (ThreadSamples++ == 0)
        {
            // Where the trace's clock starts, to place the CPU time readings (taken by the wall clock) among the samples.
            _sessionStartUtc = data.TimeStamp.ToUniversalTime() - TimeSpan.FromMilliseconds(data.TimeStampRelativeMSec);
        }

        _samplesPerThread[data.ThreadID] = _samplesPerThread.GetValueOrDefault(data.ThreadID) + 1;

        // The sampler stops every thread, waiting or not: whether it was running is decided at the end of the round.
        _threadSamples.Add(new ThreadSample(data.ThreadID, (int)data.CallStackIndex(), data.TimeStampRelativeMSec, data.Type == ClrThreadSampleType.Managed));
    }

    private void OnAllocationTick(GCAllocationTickTraceData data)
    {
        if (!TakeAllocationEvent(data.TimeStampRelativeMSec, out var weight))
        {
            return;
        }

        var size = data.ObjectSize > 0 ? (double)data.ObjectSize : 0;
        var bytes = (double)data.AllocationAmount64;
        var objects = size > 0 ? bytes / size : 1;
        var typeId = (ulong)data.TypeID;
        NameType(typeId, data);
        Record(_tickAllocations, (int)data.CallStackIndex(), typeId, weight * objects, weight * bytes);
    }

    private void OnAllocationSampled(AllocationSampledTraceData data)
    {
        if (!TakeAllocationEvent(data.TimeStampRelativeMSec, out var weight))
        {
            return;
        }

        // Each allocated byte is sampled with probability 1/distance, so an object of size S is caught with
        // probability 1 - e^(-S/distance): one sample stands for the inverse of that many objects.
        var size = Math.Max(1, (double)data.ObjectSize);
        var probability = -double.ExpM1(-size / AllocationSamplingDistance);
        var typeId = (ulong)data.TypeID;
        NameType(typeId, data);
        Record(_sampledAllocations, (int)data.CallStackIndex(), typeId, weight / probability, weight * size / probability);
    }

    private void NameType(ulong typeId, TraceEvent data)
    {
        if (!_typeNames.ContainsKey(typeId))
        {
            var name = data switch
            {
                AllocationSampledTraceData sampled => sampled.TypeName,
                GCAllocationTickTraceData tick => tick.TypeName,
                _ => null,
            };
            _typeNames[typeId] = string.IsNullOrEmpty(name) ? "[unknown type]" : name;
        }
    }

    private static void Record(Dictionary<(int, ulong), AllocationTotals> totals, int stack, ulong typeId, double objects, double bytes)
    {
        var key = (stack, typeId);
        var current = totals.GetValueOrDefault(key);
        totals[key] = new AllocationTotals(current.Objects + objects, current.Bytes + bytes);
    }

    private bool TakeAllocationEvent(double timestampMsec, out double weight)
    {
        AllocationEvents++;
        var window = (long)(timestampMsec / 1000);
        if (window != _allocationWindow)
        {
            // The stride for this second follows the rate of the previous one.
            _allocationStride = _allocationWindow < 0 ? 1 : Math.Max(1, (_allocationEventsInWindow + _maxAllocationEventsPerSecond - 1) / _maxAllocationEventsPerSecond);
            _allocationWindow = window;
            _allocationEventsInWindow = 0;
        }

        _allocationEventsInWindow++;
        if (_allocationStride > 1 && _allocationEventsInWindow % _allocationStride != 0)
        {
            AllocationEventsSkipped++;
            weight = 0;
            return false;
        }

        weight = _allocationStride;
        return true;
    }

    private void OnContentionStart(ContentionStartTraceData data)
    {
        _pendingContentions[data.ThreadID] = (int)data.CallStackIndex();
    }

    private void OnContentionStop(ContentionStopTraceData data)
    {
        if (!_pendingContentions.Remove(data.ThreadID, out var stack))
        {
            return;
        }

        Contentions++;
        var delay = (long)data.DurationNs;
        var current = _contentions.GetValueOrDefault(stack);
        _contentions[stack] = (current.Count + 1, current.DelayNanos + delay);
    }

    /// <summary>Builds the round's profiles; kinds without samples are left out.</summary>
    /// <param name="cpuReadings">The threads' measured CPU time during the round; null where it could not be read.</param>
    /// <param name="perfStacks">The round's perf-event samples, which make the cpu profile when given.</param>
    public IReadOnlyList<CollectedProfile> Build(StackResolver resolver, DateTimeOffset start, TimeSpan duration, IReadOnlyList<ThreadCpuReading>? cpuReadings, PerfCpuStacks? perfStacks = null)
    {
        var profiles = new List<CollectedProfile>();
        var period = SamplePeriodNanos(duration);
        if (perfStacks is not null && (_kinds & ProfileKinds.Cpu) != 0)
        {
            AddIfNotEmpty(profiles, PerfCpuProfile(resolver, perfStacks, start, duration), ProfileKinds.Cpu);
        }

        var cpuTotals = (_sampledKinds & ProfileKinds.Cpu) != 0 ? new Dictionary<int, StackTotals>() : null;
        var wallTotals = (_kinds & ProfileKinds.Wall) != 0 ? new Dictionary<int, StackTotals>() : null;
        if (cpuTotals is not null)
        {
            MarkBlocked(resolver);
        }

        CpuAttribution.Attribute(_threadSamples, cpuReadings, _sessionStartUtc, period, cpuTotals, wallTotals);
        if (cpuTotals is not null)
        {
            var cpu = new ProfileBuilder([new("samples", "count"), new("cpu", "nanoseconds")], new("cpu", "nanoseconds"), period, start, duration);
            foreach (var (stack, totals) in cpuTotals)
            {
                if (totals.Nanos >= 0.5 && resolver.Resolve(stack) is { Length: > 0 } frames && !IsAgentsIdleSpin(frames))
                {
                    cpu.Add(frames, null, [(long)Math.Round(totals.Count), (long)Math.Round(totals.Nanos)]);
                }
            }

            AddIfNotEmpty(profiles, cpu, ProfileKinds.Cpu);
        }

        if (wallTotals is not null)
        {
            var wall = new ProfileBuilder([new("samples", "count"), new("wall", "nanoseconds")], new("wall", "nanoseconds"), period, start, duration);
            foreach (var (stack, totals) in wallTotals)
            {
                if (resolver.Resolve(stack) is { Length: > 0 } frames)
                {
                    wall.Add(frames, null, [(long)Math.Round(totals.Count), (long)Math.Round(totals.Nanos)]);
                }
            }

            AddIfNotEmpty(profiles, wall, ProfileKinds.Wall);
        }

        if ((_kinds & ProfileKinds.Heap) != 0)
        {
            var heap = new ProfileBuilder([new("alloc_objects", "count"), new("alloc_space", "bytes")], new("space", "bytes"), 0, start, duration);

            // The runtime emits one or the other; should both arrive, the unbiased sampled one wins.
            var allocations = _sampledAllocations.Count > 0 ? _sampledAllocations : _tickAllocations;
            foreach (var ((stack, typeId), totals) in allocations)
            {
                if (resolver.Resolve(stack) is { } frames)
                {
                    var typeName = _typeNames[typeId];
                    heap.Add(frames, typeName, [(long)Math.Round(totals.Objects), (long)Math.Round(totals.Bytes)], new Dictionary<string, string[]>(StringComparer.Ordinal) { ["type"] = [typeName] });
                }
            }

            AddIfNotEmpty(profiles, heap, ProfileKinds.Heap);
        }

        if ((_kinds & ProfileKinds.Mutex) != 0)
        {
            var mutex = new ProfileBuilder([new("contentions", "count"), new("delay", "nanoseconds")], new("contentions", "count"), 1, start, duration);
            foreach (var (stack, totals) in _contentions)
            {
                if (resolver.Resolve(stack) is { Length: > 0 } frames)
                {
                    mutex.Add(frames, null, [totals.Count, totals.DelayNanos]);
                }
            }

            AddIfNotEmpty(profiles, mutex, ProfileKinds.Mutex);
        }

        return profiles;
    }

    /// <summary>The cpu profile from perf events: every sample is a period of a thread's time on a CPU.</summary>
    private ProfileBuilder PerfCpuProfile(StackResolver resolver, PerfCpuStacks perfStacks, DateTimeOffset start, TimeSpan duration)
    {
        var cpu = new ProfileBuilder([new("samples", "count"), new("cpu", "nanoseconds")], new("cpu", "nanoseconds"), perfStacks.PeriodNanos, start, duration);
        for (var i = 0; i < perfStacks.Stacks.Count; i++)
        {
            if (resolver.Resolve(perfStacks.Stacks[i]) is { Length: > 0 } frames && !IsAgentsIdleSpin(frames))
            {
                var count = perfStacks.Counts[i];
                cpu.Add(frames, null, [count, count * perfStacks.PeriodNanos]);
            }
        }

        return cpu;
    }

    // In-process, the session's own socket wakes thread-pool workers hundreds of times a second and they spin before
    // sleeping again: the agent's cost, which it cannot tell from the app's idle spinning.
    private bool IsAgentsIdleSpin(ResolvedFrame[] frames) => _inProcess && StackResolver.IsThreadPoolIdleSpin(frames);

    /// <summary>Marks the samples whose stack ends in a blocking call, so that they take no CPU time (wall keeps them).</summary>
    private void MarkBlocked(StackResolver resolver)
    {
        var blocked = new Dictionary<int, bool>();
        var samples = CollectionsMarshal.AsSpan(_threadSamples);
        for (var i = 0; i < samples.Length; i++)
        {
            var stack = samples[i].Stack;
            if (!blocked.TryGetValue(stack, out var isBlocked))
            {
                isBlocked = resolver.Resolve(stack) is { } frames && BlockingCalls.EndsInBlockingCall(frames);
                blocked.Add(stack, isBlocked);
            }

            if (isBlocked)
            {
                samples[i] = samples[i] with { Blocked = true };
            }
        }
    }

    /// <summary>
    /// The sampler nominally ticks every millisecond, but suspending the runtime makes ticks slower under load:
    /// the thread seen most often was seen at every tick, which gives the real period.
    /// </summary>
    private long SamplePeriodNanos(TimeSpan duration)
    {
        const long Nominal = 1_000_000;
        var most = 0;
        foreach (var count in _samplesPerThread.Values)
        {
            most = Math.Max(most, count);
        }

        if (most < 10)
        {
            return Nominal;
        }

        var measured = duration.Ticks * 100 / most;
        return Math.Clamp(measured, Nominal, 100 * Nominal);
    }

    private static void AddIfNotEmpty(List<CollectedProfile> profiles, ProfileBuilder builder, ProfileKinds kind)
    {
        if (builder.SampleCount > 0)
        {
            profiles.Add(new CollectedProfile(kind, builder.ToProfile()));
        }
    }

    private readonly record struct AllocationTotals(double Objects, double Bytes);
}

/// <summary>One profile a round produced.</summary>
internal sealed record CollectedProfile(ProfileKinds Kind, Profile Profile);
