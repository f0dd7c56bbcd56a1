using Microsoft.Extensions.Time.Testing;
using Profefe.Core.Engine;

namespace Profefe.Core.Tests.Engine;

public sealed class CutPacerTests
{
    private static readonly EngineOptions Options = new() { MaxCutDelay = TimeSpan.FromSeconds(30), BusyIngestRate = 200 };

    [Fact]
    public void ShouldDefer_CutsAtOnce_WhenIngestIsQuiet()
    {
        var time = new FakeTimeProvider();
        var pacer = new CutPacer(Options, time);
        Assert.False(pacer.ShouldDefer(head: 10, cursor: 0));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(pacer.ShouldDefer(head: 50, cursor: 10));
    }

    [Fact]
    public void ShouldDefer_DefersUpToMaxCutDelay_ThenCatchesUpFully_WhenIngestIsBusy()
    {
        var time = new FakeTimeProvider();
        var pacer = new CutPacer(Options, time);
        var head = 0L;
        Assert.False(pacer.ShouldDefer(head, cursor: 0));
        for (var second = 1; second < 30; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            head += 1_000;
            Assert.True(pacer.ShouldDefer(head, cursor: 0), $"second {second}");
        }

        time.Advance(TimeSpan.FromSeconds(2));
        head += 2_000;
        Assert.False(pacer.ShouldDefer(head, cursor: 0));

        // Still busy, but a catch-up goes on until a cut takes less than a full batch.
        pacer.Cut(taken: 2_000, batch: 2_000);
        time.Advance(TimeSpan.FromSeconds(1));
        head += 1_000;
        Assert.False(pacer.ShouldDefer(head, cursor: 2_000));
        pacer.Cut(taken: 1_500, batch: 2_000);
        Assert.True(pacer.ShouldDefer(head, cursor: 3_500));
    }

    [Fact]
    public void ShouldDefer_KeepsTheMeasuredRate_WhenTheHeadIsOnlyALowerBound()
    {
        var time = new FakeTimeProvider();
        var pacer = new CutPacer(Options, time);
        pacer.ShouldDefer(head: 0, cursor: 0);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(pacer.ShouldDefer(head: 5_000, cursor: 0));

        // The backlog's count stops at its limit while pushes go on: the head it gives stays put, which is no sign of
        // ingest gone quiet.
        for (var second = 2; second <= 10; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.True(pacer.ShouldDefer(head: 20_001, cursor: 0, headAtLeast: true), $"second {second}");
        }

        // Exact again and still, long before MaxCutDelay: measured afresh, quiet, so the cutter runs.
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(pacer.ShouldDefer(head: 19_000, cursor: 0));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(pacer.ShouldDefer(head: 19_000, cursor: 0));
    }

    [Fact]
    public void ShouldDefer_CutsAtOnce_WhenTheHeadIsOnlyALowerBoundBeforeAnyRate()
    {
        var time = new FakeTimeProvider();
        var pacer = new CutPacer(Options, time);
        Assert.False(pacer.ShouldDefer(head: 20_001, cursor: 0, headAtLeast: true));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(pacer.ShouldDefer(head: 20_001, cursor: 0, headAtLeast: true));
    }

    [Fact]
    public void ShouldDefer_Cuts_WhenAQueryAsksForTheEngine()
    {
        var time = new FakeTimeProvider();
        var pacer = new CutPacer(Options, time);
        pacer.ShouldDefer(head: 0, cursor: 0);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(pacer.ShouldDefer(head: 5_000, cursor: 0));
        pacer.RequestCatchUp();
        Assert.False(pacer.ShouldDefer(head: 5_500, cursor: 0));
        pacer.Cut(taken: 2_000, batch: 2_000);
        Assert.False(pacer.ShouldDefer(head: 6_000, cursor: 2_000));
    }

    [Fact]
    public void ShouldDefer_NeverDefers_WhenMaxCutDelayIsZero()
    {
        var time = new FakeTimeProvider();
        var pacer = new CutPacer(new EngineOptions { MaxCutDelay = TimeSpan.Zero }, time);
        pacer.ShouldDefer(head: 0, cursor: 0);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(pacer.ShouldDefer(head: 50_000, cursor: 0));
    }
}
