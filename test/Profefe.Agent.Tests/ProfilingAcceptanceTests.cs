using Profefe.Pprof;
using static Profefe.Agent.Tests.ProfileStats;

namespace Profefe.Agent.Tests;

/// <summary>
/// The agent profiles TestApps/Profefe.Agent.TestApp, whose behaviour is known, from outside (as the sidecar does)
/// and from inside, and the profiles must say what the app does.
/// </summary>
[Collection(EventPipeTests.Name)]
public sealed class ProfilingAcceptanceTests
{
    private const string Hot = "Profefe.Agent.TestApp.Hot.Spin";
    private const string Warm = "Profefe.Agent.TestApp.Warm.Spin";
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Cpu_AttributesHotAndWarmShares_WhenAttachedToAnotherProcess()
    {
        using var app = await TestApp.StartAsync("cpu", "60");
        var pushed = await AgentRun.OneRoundAsync(app.ProcessId, ProfileKinds.Cpu | ProfileKinds.Wall, Duration);

        var cpu = Assert.Single(pushed, p => p.Type == "cpu");
        Assert.Equal([new("host", "test-host")], cpu.Labels);
        AssertHotWarmShares(AgentRun.Decode(cpu));
        var (top, output) = await GoPprofTopAsync(cpu.Data);
        Assert.True(top.Count > 0 && top[0] == Hot, "go tool pprof -top does not list Hot.Spin first:\n" + output);

        var wall = Assert.Single(pushed, p => p.Type == "other");
        Assert.Contains(new("profile", "wall"), wall.Labels);
        var wallProfile = AgentRun.Decode(wall);
        Assert.Equal("wall", wallProfile.SampleTypes[1].Type);

        // Wall time includes the threads that wait, such as the app's main thread sleeping.
        Assert.True(wallProfile.Samples.Sum(s => s.Values[0]) > AgentRun.Decode(cpu).Samples.Sum(s => s.Values[0]));
    }

    [Fact]
    public async Task Cpu_AttributesHotAndWarmShares_WhenTheAppProfilesItself()
    {
        using var collector = new CapturingCollector();
        using var app = await TestApp.StartAsync("cpu", "1", "--agent", collector.Address.AbsoluteUri, "--duration", "3");
        var (exitCode, output, error) = await app.WaitForExitAsync(TimeSpan.FromMinutes(2));
        Assert.True(exitCode == 0, $"test app failed ({exitCode}): {output} {error}");

        var cpu = Assert.Single(collector.Profiles, p => p.Type == "cpu");
        Assert.Equal("testapp-cpu", cpu.Service);
        Assert.Equal("inprocess", cpu.Labels["mode"]);
        var profile = ProfileDecoder.Decode(cpu.Data);
        AssertHotWarmShares(profile);

        // The agent's own threads (the event stream, the uploads) are not the app's work.
        Assert.DoesNotContain(profile.Mappings, m => m.File.StartsWith("Microsoft.Diagnostics", StringComparison.Ordinal) || m.File == "Profefe.Agent");
        var (top, pprofOutput) = await GoPprofTopAsync(cpu.Data);
        Assert.True(top.Count > 0 && top[0] == Hot, "go tool pprof -top does not list Hot.Spin first:\n" + pprofOutput);

        Assert.Contains(collector.Profiles, p => p.Type == "other" && p.Labels.GetValueOrDefault("profile") == "wall");
    }

    [Fact]
    public async Task Heap_TopTypeAndMethodAreTheAppsBiggestAllocation_WhenAttachedToAnotherProcess()
    {
        using var app = await TestApp.StartAsync("alloc", "60");
        var pushed = await AgentRun.OneRoundAsync(app.ProcessId, ProfileKinds.Heap, Duration);

        var heap = AgentRun.Decode(Assert.Single(pushed, p => p.Type == "heap"));
        var space = ValueIndex(heap, "alloc_space");
        ValueIndex(heap, "alloc_objects");
        var byType = Totals(heap, space, s => s.Labels?.GetValueOrDefault("type")?.FirstOrDefault());
        Assert.True(byType[0].Key == "Profefe.Agent.TestApp.Widget", "allocated bytes by type: " + Describe(byType));

        // The type is also the leaf frame, so flame graphs end in what was allocated.
        Assert.All(heap.Samples, s => Assert.Equal(s.Labels!["type"][0], Frames(s).First()));
        var byMethod = Totals(heap, space, FirstAppFrame);
        Assert.True(byMethod[0].Key == "Profefe.Agent.TestApp.Allocator.MakeWidgets", "allocated bytes by method: " + Describe(byMethod));
        Assert.Contains(byMethod, m => m.Key == "Profefe.Agent.TestApp.Allocator.MakeNames");
    }

    [Fact]
    public async Task Mutex_ContendedMethodTopsTheProfile_WhenAttachedToAnotherProcess()
    {
        using var app = await TestApp.StartAsync("lock", "60");
        var pushed = await AgentRun.OneRoundAsync(app.ProcessId, ProfileKinds.Mutex, Duration);

        var mutex = AgentRun.Decode(Assert.Single(pushed, p => p.Type == "mutex"));
        var delay = ValueIndex(mutex, "delay");
        ValueIndex(mutex, "contentions");
        var byMethod = Totals(mutex, delay, FirstAppFrame);
        Assert.True(byMethod.Count > 0 && byMethod[0].Key == "Profefe.Agent.TestApp.Contended.Work", "contention delay by method: " + Describe(byMethod));
    }

    private static void AssertHotWarmShares(Profile cpu)
    {
        var samples = ValueIndex(cpu, "samples");
        ValueIndex(cpu, "cpu");

        // The app's work: every running sample with the app's code on its stack.
        var total = (double)Sum(cpu, samples, s => FirstAppFrame(s) is not null);
        var hot = Sum(cpu, samples, s => Frames(s).Contains(Hot)) / total;
        var warm = Sum(cpu, samples, s => Frames(s).Contains(Warm)) / total;
        TestContext.Current.TestOutputHelper?.WriteLine($"Hot.Spin {hot:P1}, Warm.Spin {warm:P1} of {total} samples of the app's work");
        Assert.True(total >= 500, $"too few samples of the app's work: {total}");
        Assert.True(Math.Abs(hot - 0.7) <= 0.1 && Math.Abs(warm - 0.3) <= 0.1, $"Hot.Spin {hot:P1}, Warm.Spin {warm:P1} of {total} samples; expected 70 % and 30 %");

        // The GC poll the loops stop at is folded into them: the loops are the leaves.
        Assert.DoesNotContain(cpu.Functions, f => f.Name.Contains("PollGC", StringComparison.Ordinal));
    }
}
