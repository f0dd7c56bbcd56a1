using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Profefe.Agent.Collection.PerfEvents;
using Profefe.Pprof;
using static Profefe.Agent.Tests.ProfileStats;

namespace Profefe.Agent.Tests;

/// <summary>The cpu profile from perf events, against EventPipe's sample profiler on the same app, and the fallback.</summary>
[Collection(EventPipeTests.Name)]
public sealed class PerfEventSamplerTests
{
    private const int EaccesErrno = 13;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task Cpu_NamesTheAppsMethodsAsEventPipeDoes_WhenSampledWithPerfEvents()
    {
        SkipWithoutPerfEvents();
        // The kernel walks frame pointers, and a frame of code entered by On-Stack Replacement hands it the OSR'd
        // method's caller's frame: such a stack reads "Hot.Spin <- Hot.Spin <- the caller's caller" (EventPipe
        // unwinds with the JIT's unwind data instead). A just-started app runs Hot.Spin as OSR code until tiering
        // replaces it, which on a loaded machine outlasts the window; this test is about the steady state.
        using var app = await TestApp.StartAsync(new Dictionary<string, string> { ["DOTNET_TC_OnStackReplacement"] = "0" }, "cpu", "60");

        var perf = AgentRun.Decode(Assert.Single(await AgentRun.OneRoundAsync(app.ProcessId, ProfileKinds.Cpu, Duration), p => p.Type == "cpu"));
        var eventPipe = AgentRun.Decode(Assert.Single(await AgentRun.OneRoundAsync(app.ProcessId, ProfileKinds.Cpu, Duration, perfEvents: false), p => p.Type == "cpu"));

        // A perf-event profile samples every 10 ms of a thread's CPU time; EventPipe's sampler ticks every millisecond.
        Assert.Equal(PerfEventSampler.PeriodNanos, perf.Period);
        Assert.NotEqual(PerfEventSampler.PeriodNanos, eventPipe.Period);
        var (perfHot, perfWarm) = Shares(perf);
        var (eventPipeHot, eventPipeWarm) = Shares(eventPipe);
        TestContext.Current.TestOutputHelper?.WriteLine($"perf events: Hot.Spin {perfHot:P1}, Warm.Spin {perfWarm:P1}; EventPipe: Hot.Spin {eventPipeHot:P1}, Warm.Spin {eventPipeWarm:P1}");

        // The kernel's frame-pointer walk through JIT-compiled code gives the same stacks: the app's loops under its
        // thread's entry point, in about the same shares.
        Assert.True(perfHot + perfWarm >= 0.9, $"perf events put {1 - perfHot - perfWarm:P1} of the app's CPU elsewhere");
        Assert.InRange(perfHot - eventPipeHot, -0.15, 0.15);
        Assert.True(
            perf.Samples.Any(s => Frames(s).SkipWhile(f => f != Hot).Any(f => f.StartsWith("Profefe.Agent.TestApp.CpuWorkload", StringComparison.Ordinal))),
            "no stack has CpuWorkload under Hot.Spin; the stacks with Hot.Spin:\n"
            + string.Join("\n", perf.Samples.Where(s => Frames(s).Contains(Hot)).Select(s => string.Join(" <- ", Frames(s))).Distinct().Take(5)));
    }

    [Fact]
    public async Task Round_FallsBackToEventPipeAndLogsItOnce_WhenPerfEventsAreRefused()
    {
        using var logged = new FakeLoggerProvider();
        using var logs = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logged));
        using var app = await TestApp.StartAsync("cpu", "60");
        var opened = 0;
        int Refuse(int threadId, out int errno)
        {
            Interlocked.Increment(ref opened);
            errno = EaccesErrno;
            return -1;
        }

        var pushed = await AgentRun.RoundsAsync(app.ProcessId, ProfileKinds.Cpu, TimeSpan.FromSeconds(1), 2, perfEvents: true, logs, Refuse);

        var refused = Assert.Single(logged.Collector.GetSnapshot(), r => r.Id.Id == AgentEventIds.PerfEventsUnavailable);
        Assert.Contains("errno 13", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1, opened);
        var cpu = pushed.Where(p => p.Type == "cpu").Select(AgentRun.Decode).ToList();
        Assert.True(cpu.Count >= 2, $"{cpu.Count} cpu profiles from 2 rounds");
        Assert.All(cpu, profile => Assert.NotEqual(PerfEventSampler.PeriodNanos, profile.Period));
        Assert.All(cpu, profile => Assert.Contains(profile.Samples, s => Frames(s).Contains(Hot)));
    }

    private static void SkipWithoutPerfEvents()
    {
        using var sampler = PerfEventSampler.TryStart(Environment.ProcessId, out var failure);
        if (sampler is null)
        {
            Assert.Skip("perf events are not available here: " + failure);
        }
    }

    private static (double Hot, double Warm) Shares(Profile cpu)
    {
        var value = ValueIndex(cpu, "cpu");
        var total = (double)Sum(cpu, value, s => FirstAppFrame(s) is not null);
        Assert.True(total > 0, "no samples of the app's code");
        return (Sum(cpu, value, s => Frames(s).Contains(Hot)) / total, Sum(cpu, value, s => Frames(s).Contains(Warm)) / total);
    }
}
