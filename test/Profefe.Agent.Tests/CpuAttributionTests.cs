using Profefe.Agent.Collection;

namespace Profefe.Agent.Tests;

public sealed class CpuAttributionTests
{
    private const int Compute = 1;
    private const int Wait = 2;
    private const int Native = 3;
    private static readonly DateTime SessionStart = new(2026, 12, 7, 4, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Attribute_GivesCpuToRunningSamplesOnly_WhenTheThreadsCpuTimeIsKnown()
    {
        // Thread 7 computes in managed code for 100 ms (ticks every 4 ms: the sampler waits for it to stop) and then
        // waits for 100 ms (ticks every 1 ms); thread 8 computes in native code (external) the whole 200 ms.
        var samples = new List<ThreadSample>();
        for (var t = 4.0; t <= 100; t += 4)
        {
            samples.Add(new(7, Compute, t, Managed: true));
            samples.Add(new(8, Native, t, Managed: false));
        }

        for (var t = 101.0; t <= 200; t += 1)
        {
            samples.Add(new(7, Wait, t, Managed: false));
            samples.Add(new(8, Native, t, Managed: false));
        }

        ThreadCpuReading[] readings =
        [
            Reading(0, (7, 1_000_000_000), (8, 5_000_000_000)),
            Reading(100, (7, 1_100_000_000), (8, 5_100_000_000)),
            Reading(200, (7, 1_100_000_000), (8, 5_200_000_000)),
        ];
        var cpu = new Dictionary<int, StackTotals>();
        var wall = new Dictionary<int, StackTotals>();

        CpuAttribution.Attribute(samples, readings, SessionStart, 1_000_000, cpu, wall);

        Assert.InRange(cpu[Compute].Nanos, 99e6, 101e6);
        Assert.False(cpu.ContainsKey(Wait));
        Assert.InRange(cpu[Native].Nanos, 195e6, 200e6);

        // Wall: each sample stands for the time around it up to halfway to its neighbours, so both halves weigh the same.
        Assert.InRange(wall[Compute].Nanos, 95e6, 101e6);
        Assert.InRange(wall[Wait].Nanos, 99e6, 101e6);
        Assert.Equal(25.0, wall[Compute].Count);
        Assert.Equal(100.0, wall[Wait].Count);
    }

    [Fact]
    public void Attribute_ScalesManagedSamplesDown_WhenTheThreadWaitedForACpu()
    {
        var samples = new List<ThreadSample>();
        for (var t = 1.0; t <= 100; t += 1)
        {
            samples.Add(new(7, Compute, t, Managed: true));
        }

        ThreadCpuReading[] readings = [Reading(0, (7, 0)), Reading(100, (7, 40_000_000))];
        var cpu = new Dictionary<int, StackTotals>();

        CpuAttribution.Attribute(samples, readings, SessionStart, 1_000_000, cpu, wall: null);

        Assert.InRange(cpu[Compute].Nanos, 39e6, 41e6);
    }

    [Fact]
    public void Attribute_CountsManagedSamplesOnly_WithoutReadings()
    {
        List<ThreadSample> samples = [new(7, Compute, 1, Managed: true), new(7, Wait, 2, Managed: false), new(7, Compute, 3, Managed: true)];
        var cpu = new Dictionary<int, StackTotals>();

        CpuAttribution.Attribute(samples, null, SessionStart, 1_000_000, cpu, wall: null);

        Assert.Equal(2.0, cpu[Compute].Count);
        Assert.Equal(2_000_000, cpu[Compute].Nanos);
        Assert.False(cpu.ContainsKey(Wait));
    }

    [Fact]
    public void Attribute_GivesNoCpuToBlockedSamples_EvenWhenCaughtInManagedCode()
    {
        // Thread 7 computes for 100 ms, then sleeps for 100 ms; the sampler caught it twice in managed code at the
        // edges of the sleep (entering and leaving Thread.Sleep), which are marked blocked.
        var samples = new List<ThreadSample>();
        for (var t = 4.0; t <= 100; t += 4)
        {
            samples.Add(new(7, Compute, t, Managed: true));
        }

        samples.Add(new(7, Wait, 101, Managed: true, Blocked: true));
        for (var t = 102.0; t < 200; t += 1)
        {
            samples.Add(new(7, Wait, t, Managed: false, Blocked: true));
        }

        samples.Add(new(7, Wait, 200, Managed: true, Blocked: true));
        ThreadCpuReading[] readings = [Reading(0, (7, 0)), Reading(200, (7, 100_000_000))];
        var cpu = new Dictionary<int, StackTotals>();
        var wall = new Dictionary<int, StackTotals>();

        CpuAttribution.Attribute(samples, readings, SessionStart, 1_000_000, cpu, wall);

        Assert.InRange(cpu[Compute].Nanos, 99e6, 101e6);
        Assert.False(cpu.ContainsKey(Wait));
        Assert.InRange(wall[Wait].Nanos, 98e6, 101e6);
    }

    [Fact]
    public void Attribute_LeavesOutBlockedSamples_WithoutReadings()
    {
        List<ThreadSample> samples = [new(7, Compute, 1, Managed: true), new(7, Wait, 2, Managed: true, Blocked: true)];
        var cpu = new Dictionary<int, StackTotals>();

        CpuAttribution.Attribute(samples, null, SessionStart, 1_000_000, cpu, wall: null);

        Assert.Equal(1.0, cpu[Compute].Count);
        Assert.False(cpu.ContainsKey(Wait));
    }

    [Theory]
    [InlineData("System.Threading.Thread.Sleep")]
    [InlineData("System.Threading.Thread.SleepInternal")]
    [InlineData("System.Threading.Thread.Join")]
    [InlineData("System.Threading.Monitor.Wait")]
    [InlineData("System.Threading.WaitHandle.WaitOneCore")]
    [InlineData("System.Threading.LowLevelLifoSemaphore.WaitForSignal")]
    [InlineData("Interop+Sys.<Receive>g____PInvoke|70_0")]
    [InlineData("Interop+Sys.WaitForSocketEvents")]
    public void EndsInBlockingCall_IsTrue_ForTheRuntimesWaits(string leaf)
    {
        Assert.True(BlockingCalls.EndsInBlockingCall([Frame("[libcoreclr]"), Frame(leaf), Frame("App.Worker.Run")]));
    }

    [Theory]
    [InlineData("App.Sleeper.Sleep")]
    [InlineData("System.Threading.LowLevelLifoSemaphore.Wait")]
    [InlineData("System.Threading.Thread.Start")]
    [InlineData("Interop+Sys.ReadLink")]
    [InlineData("[libcoreclr]")]
    public void EndsInBlockingCall_IsFalse_ForCodeThatRuns(string leaf)
    {
        // Only the innermost named frame counts: a sleep further up the stack is not where the thread is.
        Assert.False(BlockingCalls.EndsInBlockingCall([Frame(leaf), Frame("App.Worker.Run"), Frame("System.Threading.Thread.Sleep")]));
    }

    [Fact]
    public void ThreadCpuTimes_ReadsTheCurrentProcessesThreads()
    {
        using var times = ThreadCpuTimes.TryStart(Environment.ProcessId);
        if (times is null)
        {
            Assert.Skip("/proc/PID/task/TID/schedstat is not available here");
        }

        var readings = times.Stop();

        Assert.True(readings.Count >= 2);
        Assert.True(readings[^1].CpuNanos.GetValueOrDefault(Environment.ProcessId) > 0, "the main thread has run");
    }

    private static ResolvedFrame Frame(string name) => new(name.GetHashCode(StringComparison.Ordinal), name, "", 0);

    private static ThreadCpuReading Reading(double msec, params (int Thread, long Nanos)[] threads) =>
        new(SessionStart.AddMilliseconds(msec), threads.ToDictionary(t => t.Thread, t => t.Nanos));
}
