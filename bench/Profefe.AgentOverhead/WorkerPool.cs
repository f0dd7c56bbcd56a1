using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Profefe.Agent.TestApp;

namespace Profefe.AgentOverhead;

/// <summary>One phase's figures; the time shares are of the window's (or outside's) wall time.</summary>
/// <param name="WindowHeld">Share of the workers' time they were neither running nor waiting for a CPU: held by the
/// runtime (suspended for the sampler's stack walks), since they never wait otherwise. Unlike throughput, it does not
/// depend on what else the machine runs.</param>
/// <param name="WindowOtherCpu">CPU the process's other threads used (agent, runtime), as a share of all cores.</param>
internal sealed record PhaseResult(
    double Rate, double WindowRate, double WindowSeconds, double OutsideRate, double OtherCpuShare,
    double WindowHeld, double WindowOtherCpu, double OutsideHeld, double OutsideOtherCpu);

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
        var samples = new List<(long Ticks, long Units, Schedule Workers, double ProcessCpu)>();
        var cpuStart = (Process: ProcessCpu(), Workers: WorkerCpu());
        var start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start) < length)
        {
            samples.Add((Stopwatch.GetTimestamp(), Total(), WorkerSchedule(), ProcessCpu()));
            Thread.Sleep(100);
        }

        samples.Add((Stopwatch.GetTimestamp(), Total(), WorkerSchedule(), ProcessCpu()));
        var processCpu = ProcessCpu() - cpuStart.Process;
        var workerCpu = WorkerCpu() - cpuStart.Workers;
        var seconds = Stopwatch.GetElapsedTime(samples[0].Ticks, samples[^1].Ticks).TotalSeconds;
        var rate = (samples[^1].Units - samples[0].Units) / seconds;
        double windowUnits = 0, windowSeconds = 0;
        var window = new Shares();
        var outside = new Shares();
        for (var i = 1; i < samples.Count; i++)
        {
            var (before, after) = (samples[i - 1], samples[i]);
            var wall = Stopwatch.GetElapsedTime(before.Ticks, after.Ticks).TotalSeconds;
            var inWindow = rounds is not null && rounds.WasProfiling(before.Ticks, after.Ticks);
            if (inWindow)
            {
                windowUnits += after.Units - before.Units;
                windowSeconds += wall;
            }

            var stepWorkerCpu = (after.Workers.CpuNanos - before.Workers.CpuNanos) / 1e9;
            var waitedForCpu = (after.Workers.RunDelayNanos - before.Workers.RunDelayNanos) / 1e9;
            (inWindow ? window : outside).Add(wall, _threads.Length, stepWorkerCpu, waitedForCpu, after.ProcessCpu - before.ProcessCpu - stepWorkerCpu);
        }

        var outsideSeconds = seconds - windowSeconds;
        var outsideUnits = samples[^1].Units - samples[0].Units - windowUnits;
        return new PhaseResult(
            rate,
            windowSeconds > 0 ? windowUnits / windowSeconds : double.NaN,
            windowSeconds,
            outsideSeconds > 0 ? outsideUnits / outsideSeconds : double.NaN,
            processCpu > 0 ? (processCpu - workerCpu) / processCpu : 0,
            window.Held,
            window.OtherCpu,
            outside.Held,
            outside.OtherCpu);
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
            sink += Hot.Spin(20_000);
            Interlocked.Increment(ref _counts[index * 16]);
        }

        GC.KeepAlive(sink);
    }

    /// <summary>The workers' summed /proc/self/task/TID/schedstat: nanoseconds on a CPU and waiting for one.</summary>
    private Schedule WorkerSchedule()
    {
        long cpu = 0, delay = 0;
        foreach (var tid in _threadIds)
        {
            try
            {
                var fields = File.ReadAllText($"/proc/self/task/{tid.ToString(CultureInfo.InvariantCulture)}/schedstat").Split(' ');
                cpu += long.Parse(fields[0], CultureInfo.InvariantCulture);
                delay += long.Parse(fields[1], CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
            {
                // Not Linux: the held shares are then not reported.
                return new Schedule(0, 0);
            }
        }

        return new Schedule(cpu, delay);
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

    private readonly record struct Schedule(long CpuNanos, long RunDelayNanos);

    /// <summary>Sums time over the 100 ms steps of the window (or of outside it).</summary>
    private sealed class Shares
    {
        private double _threadSeconds;
        private double _held;
        private double _coreSeconds;
        private double _otherCpu;

        public double Held => _threadSeconds > 0 ? _held / _threadSeconds : double.NaN;

        public double OtherCpu => _coreSeconds > 0 ? _otherCpu / _coreSeconds : double.NaN;

        public void Add(double wall, int threads, double workerCpu, double waitedForCpu, double otherCpu)
        {
            _threadSeconds += wall * threads;
            _held += Math.Max(0, (wall * threads) - workerCpu - waitedForCpu);
            _coreSeconds += wall * Environment.ProcessorCount;
            _otherCpu += Math.Max(0, otherCpu);
        }
    }
}
