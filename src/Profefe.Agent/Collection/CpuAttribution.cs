namespace Profefe.Agent.Collection;

/// <summary>One thread sample as a round keeps it until the end: which thread, which stack, when, and in which mode.</summary>
/// <param name="Managed">The runtime stopped the thread in managed code (cooperative mode); otherwise it was outside
/// the runtime ("external"): computing in native code or blocked in the kernel, the sampler cannot tell which.</param>
/// <param name="Blocked">The stack ends in one of the runtime's blocking calls (<see cref="BlockingCalls"/>): waiting, in
/// whichever mode the sampler caught it.</param>
internal readonly record struct ThreadSample(int ThreadId, int Stack, double TimeMsec, bool Managed, bool Blocked = false)
{
    /// <summary>May take CPU time as managed code: caught in managed code and not at the edge of a blocking call.</summary>
    public bool Running => Managed && !Blocked;

    /// <summary>May take CPU time as native code: caught outside the runtime, but not in a call known to block.</summary>
    public bool External => !Managed && !Blocked;
}

/// <summary>A stack's samples (a sample only partly on a CPU counts as that part) and the nanoseconds they stand for.</summary>
internal struct StackTotals
{
    public double Count;
    public double Nanos;
}

/// <summary>
/// Turns a round's thread samples into wall and CPU time per stack.
/// </summary>
/// <remarks>
/// Wall: each sample stands for the time from halfway to the thread's previous sample to halfway to its next one.
/// The sampler's ticks are not even: it
/// waits for running threads to reach a safe point, so ticks come slower while threads compute than while they
/// wait, and counting samples would shrink computing against waiting.
///
/// CPU: where the threads' measured CPU time is known (<see cref="ThreadCpuTimes"/>), each stretch between two
/// readings (200 ms) gives a thread exactly the CPU time it used, in proportion to the time its samples stand for:
/// to its samples in managed code (running, as far as the runtime knows) when it has any in that stretch, otherwise to
/// its external samples, at most their own time each. So a thread blocked in a wait gets no CPU for it, a thread
/// computing in native code gets its time, and a stretch that mixes managed work and waiting never hands the
/// managed work's CPU to the waits (sampling ticks and readings are never perfectly aligned). Samples whose stack ends in
/// a blocking call (<see cref="ThreadSample.Blocked"/>) get none, in either mode. The price: native work
/// in a stretch that also ran managed code is counted under that managed code. Without readings (not Linux, or a
/// thread the readings missed) only the samples in managed code count, at their own time.
/// </remarks>
internal static class CpuAttribution
{
    /// <summary>A gap longer than this (a thread that was not sampled for a while) counts as this much.</summary>
    public const double MaxGapNanos = 100_000_000;

    public static void Attribute(
        List<ThreadSample> samples,
        IReadOnlyList<ThreadCpuReading>? readings,
        DateTime sessionStartUtc,
        long periodNanos,
        Dictionary<int, StackTotals>? cpu,
        Dictionary<int, StackTotals>? wall)
    {
        var byThread = new Dictionary<int, List<ThreadSample>>();
        foreach (var sample in samples)
        {
            if (!byThread.TryGetValue(sample.ThreadId, out var list))
            {
                list = [];
                byThread.Add(sample.ThreadId, list);
            }

            list.Add(sample);
        }

        var readingTimes = new double[readings?.Count ?? 0];
        for (var i = 0; i < readingTimes.Length; i++)
        {
            readingTimes[i] = (readings![i].Utc - sessionStartUtc).TotalMilliseconds;
        }

        var gaps = new List<double>();
        foreach (var (threadId, list) in byThread)
        {
            list.Sort(static (a, b) => a.TimeMsec.CompareTo(b.TimeMsec));
            gaps.Clear();
            for (var k = 0; k < list.Count; k++)
            {
                // Half the time to the previous sample and half to the next: where the thread changed what it did
                // between two samples, neither side gets the whole stretch.
                var before = k == 0 ? periodNanos : Math.Clamp((list[k].TimeMsec - list[k - 1].TimeMsec) * 1e6, 0, MaxGapNanos);
                var after = k == list.Count - 1 ? periodNanos : Math.Clamp((list[k + 1].TimeMsec - list[k].TimeMsec) * 1e6, 0, MaxGapNanos);
                var gap = (before + after) / 2;
                gaps.Add(gap);
                if (wall is not null)
                {
                    Add(wall, list[k].Stack, gap);
                }
            }

            if (cpu is not null)
            {
                AttributeCpu(threadId, list, gaps, readings, readingTimes, cpu);
            }
        }
    }

    private static void AttributeCpu(int threadId, List<ThreadSample> list, List<double> gaps, IReadOnlyList<ThreadCpuReading>? readings, double[] readingTimes, Dictionary<int, StackTotals> cpu)
    {
        var k = 0;
        var interval = 0;
        while (k < list.Count)
        {
            var time = list[k].TimeMsec;
            if (readings is null || readingTimes.Length < 2 || time <= readingTimes[0] || time > readingTimes[^1])
            {
                CountIfRunning(list[k], gaps[k], cpu);
                k++;
                continue;
            }

            while (readingTimes[interval + 1] < time)
            {
                interval++;
            }

            var end = k;
            while (end < list.Count && list[end].TimeMsec <= readingTimes[interval + 1])
            {
                end++;
            }

            if (readings[interval + 1].CpuNanos.TryGetValue(threadId, out var after))
            {
                // A thread not in the earlier reading started in between: all its time is from this stretch.
                var used = after - readings[interval].CpuNanos.GetValueOrDefault(threadId);
                Distribute(list, gaps, k, end, used, cpu);
            }
            else
            {
                for (var i = k; i < end; i++)
                {
                    CountIfRunning(list[i], gaps[i], cpu);
                }
            }

            k = end;
        }
    }

    private static void Distribute(List<ThreadSample> list, List<double> gaps, int start, int end, double used, Dictionary<int, StackTotals> cpu)
    {
        double managed = 0, external = 0;
        for (var i = start; i < end; i++)
        {
            if (list[i].Running)
            {
                managed += gaps[i];
            }
            else if (list[i].External)
            {
                external += gaps[i];
            }
        }

        used = Math.Max(0, used);
        var managedScale = managed > 0 ? used / managed : 0;
        var externalScale = managed == 0 && external > 0 ? Math.Min(1, used / external) : 0;
        for (var i = start; i < end; i++)
        {
            var scale = list[i].Running ? managedScale : list[i].External ? externalScale : 0;
            if (scale > 0)
            {
                Add(cpu, list[i].Stack, gaps[i] * scale, Math.Min(1, scale));
            }
        }
    }

    private static void CountIfRunning(ThreadSample sample, double gap, Dictionary<int, StackTotals> cpu)
    {
        if (sample.Running)
        {
            Add(cpu, sample.Stack, gap);
        }
    }

    private static void Add(Dictionary<int, StackTotals> totals, int stack, double nanos, double count = 1)
    {
        ref var entry = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(totals, stack, out _);
        entry.Count += count;
        entry.Nanos += nanos;
    }
}
