using System.Runtime.CompilerServices;

namespace Profefe.Agent.TestApp;

internal abstract class Workload
{
    public abstract Thread[] Start(CancellationToken stop);

    protected static Thread StartThread(string name, Action body)
    {
        var thread = new Thread(() => body()) { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }
}

/// <summary>One thread: 70 % of its time in Hot.Spin, 30 % in Warm.Spin, both pure managed arithmetic.</summary>
internal sealed class CpuWorkload : Workload
{
    public override Thread[] Start(CancellationToken stop) =>
    [
        StartThread("cpu", () =>
        {
            ulong sink = 0;
            while (!stop.IsCancellationRequested)
            {
                sink += Hot.Spin(7_000_000);
                sink += Warm.Spin(3_000_000);
            }

            GC.KeepAlive(sink);
        }),
    ];
}

internal static class Warm
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Spin(int iterations)
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
}

/// <summary>
/// One thread that computes in Hot.Spin and then sleeps in Sleeper.Nap, about as long each: the CPU is all
/// Hot.Spin's, the wall clock is shared between the two.
/// </summary>
internal sealed class SleepWorkload : Workload
{
    public override Thread[] Start(CancellationToken stop) =>
    [
        StartThread("burn-and-sleep", () =>
        {
            ulong sink = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!stop.IsCancellationRequested)
            {
                clock.Restart();
                while (clock.ElapsedMilliseconds < 50)
                {
                    sink += Hot.Spin(200_000);
                }

                Sleeper.Nap(50);
            }

            GC.KeepAlive(sink);
        }),
    ];
}

internal static class Sleeper
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Nap(int milliseconds) => Thread.Sleep(milliseconds);
}

/// <summary>Allocates mostly Widget objects in Allocator.MakeWidgets and a few strings in Allocator.MakeNames.</summary>
internal sealed class AllocationWorkload : Workload
{
    public override Thread[] Start(CancellationToken stop) =>
    [
        StartThread("alloc", () =>
        {
            var keep = new object[1024];
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                Allocator.MakeWidgets(keep, ref n, 90);
                Allocator.MakeNames(keep, ref n, 10);

                // Keep one core free for the agent and the runtime on small CI machines.
                Thread.SpinWait(2000);
            }
        }),
    ];
}

internal sealed class Widget
{
    public long A { get; init; }

    public long B { get; init; }

    public long C { get; init; }

    public long D { get; init; }

    public object? Next { get; init; }
}

internal static class Allocator
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void MakeWidgets(object[] keep, ref int n, int count)
    {
        for (var i = 0; i < count; i++)
        {
            keep[n++ & 1023] = new Widget { A = i, B = i, C = i, D = i, Next = keep };
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void MakeNames(object[] keep, ref int n, int count)
    {
        for (var i = 0; i < count; i++)
        {
            keep[n++ & 1023] = new string('n', 8 + (i & 7));
        }
    }
}

/// <summary>Three threads fight over one lock held in Contended.Work; one thread takes an uncontended lock.</summary>
internal sealed class LockWorkload : Workload
{
    private static readonly object Shared = new();
    private static readonly object Private = new();

    public override Thread[] Start(CancellationToken stop)
    {
        var threads = new List<Thread>();
        for (var t = 0; t < 3; t++)
        {
            threads.Add(StartThread("contender-" + t, () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    Contended.Work(Shared);
                    Thread.Sleep(1);
                }
            }));
        }

        threads.Add(StartThread("loner", () =>
        {
            while (!stop.IsCancellationRequested)
            {
                Uncontended.Work(Private);
                Thread.Sleep(1);
            }
        }));
        return [.. threads];
    }
}

internal static class Contended
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Work(object gate)
    {
        lock (gate)
        {
            Thread.Sleep(2);
        }
    }
}

internal static class Uncontended
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Work(object gate)
    {
        lock (gate)
        {
            Thread.SpinWait(100);
        }
    }
}
