using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Profefe.AgentOverhead;

internal sealed record PhaseResult(double Rate, double WindowRate, double WindowSeconds, double OutsideRate, double OtherCpuShare);

/// <summary>Threads that do fixed units of arithmetic as fast as they can and count them.</summary>
internal sealed partial class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly long[] _counts;
    private readonly int[] _threadIds;
    private volatile bool _stop;

    public WorkerPool(int threads)
    {
        _threads = new Thread[threads];
        _counts = new long[threads * 16];
        _threadIds = new int[threads];
    }

    public void Start()
    {
        for (var i = 0; i < _threads.Length; i++)
        {
            var index = i;
            _threads[i] = new Thread(() => Work(index)) { IsBackground = true, Name = "worker-" + i };
            _threads[i].Start();
        }
    }

    public void Stop()
    {
        _stop = true;
        foreach (var thread in _threads)
        {
            thread.Join();
        }
    }

    public void Dispose() => _stop = true;

    /// <summary>Samples the counters every 100 ms for <paramref name="length"/>; splits by the agent's rounds when given.</summary>
    public PhaseResult Measure(TimeSpan length, RoundLog? rounds)
    {
        var samples = new List<(long Ticks, long Units)>();
        var cpuStart = (Process: ProcessCpu(), Workers: WorkerCpu());
        var start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start) < length)
        {
            samples.Add((Stopwatch.GetTimestamp(), Total()));
            Thread.Sleep(100);
        }

        samples.Add((Stopwatch.GetTimestamp(), Total()));
        var processCpu = ProcessCpu() - cpuStart.Process;
        var workerCpu = WorkerCpu() - cpuStart.Workers;
        var seconds = Stopwatch.GetElapsedTime(samples[0].Ticks, samples[^1].Ticks).TotalSeconds;
        var rate = (samples[^1].Units - samples[0].Units) / seconds;
        double windowUnits = 0, windowSeconds = 0;
        if (rounds is not null)
        {
            for (var i = 1; i < samples.Count; i++)
            {
                if (rounds.WasProfiling(samples[i - 1].Ticks, samples[i].Ticks))
                {
                    windowUnits += samples[i].Units - samples[i - 1].Units;
                    windowSeconds += Stopwatch.GetElapsedTime(samples[i - 1].Ticks, samples[i].Ticks).TotalSeconds;
                }
            }
        }

        var outsideSeconds = seconds - windowSeconds;
        var outsideUnits = samples[^1].Units - samples[0].Units - windowUnits;
        return new PhaseResult(
            rate,
            windowSeconds > 0 ? windowUnits / windowSeconds : double.NaN,
            windowSeconds,
            outsideSeconds > 0 ? outsideUnits / outsideSeconds : double.NaN,
            processCpu > 0 ? (processCpu - workerCpu) / processCpu : 0);
    }

    private long Total()
    {
        long total = 0;
        for (var i = 0; i < _threads.Length; i++)
        {
            total += Volatile.Read(ref _counts[i * 16]);
        }

        return total;
    }

    private void Work(int index)
    {
        _threadIds[index] = GetThreadId();
        ulong sink = 0;
        while (!_stop)
        {
            sink += Unit(20_000);
            Interlocked.Increment(ref _counts[index * 16]);
        }

        GC.KeepAlive(sink);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong Unit(int iterations)
    {
        var x = 88172645463325252UL;
        for (var i = 0; i < iterations; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }

        return x;
    }

    private static double ProcessCpu() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    /// <summary>CPU seconds of the worker threads, from /proc/self/task/TID/stat (utime + stime in clock ticks).</summary>
    private double WorkerCpu()
    {
        double total = 0;
        foreach (var tid in _threadIds)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/self/task/{tid.ToString(CultureInfo.InvariantCulture)}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                total += (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
            }
            catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
            {
                // Not Linux: the agent's CPU share is then not reported.
            }
        }

        return total;
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
