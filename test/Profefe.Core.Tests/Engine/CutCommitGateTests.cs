using Profefe.Core.Engine;

namespace Profefe.Core.Tests.Engine;

public sealed class CutCommitGateTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(1);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BeginCommit_ReadsInFlight_WaitsUntilTheyEnd()
    {
        var gate = new CutCommitGate();
        Assert.True(await gate.TryEnterReadAsync(Long, Token));
        Assert.True(await gate.TryEnterReadAsync(Long, Token));

        var commit = gate.BeginCommitAsync(Long, Token);
        gate.ExitRead();
        Assert.False(commit.IsCompleted);

        // The reads it waited for saw no commit begin.
        Assert.Equal(0, gate.Commits);
        gate.ExitRead();

        await commit;
        Assert.Equal(1, gate.Commits);
    }

    [Fact]
    public async Task TryEnterRead_CommitInFlight_EntersOnceItEnds()
    {
        var gate = new CutCommitGate();
        await gate.BeginCommitAsync(Long, Token);

        var read = gate.TryEnterReadAsync(Long, Token);
        Assert.False(read.IsCompleted);
        gate.EndCommit();

        Assert.True(await read);
        Assert.Equal(2, gate.Commits);
    }

    [Fact]
    public async Task TryEnterRead_CommitOutlastsTheWait_ReturnsFalse()
    {
        var gate = new CutCommitGate();
        await gate.BeginCommitAsync(Long, Token);

        Assert.False(await gate.TryEnterReadAsync(TimeSpan.FromMilliseconds(20), Token));
    }

    [Fact]
    public async Task BeginCommit_ReadOutlastsTheWait_GoesAheadWithTheCounterOdd()
    {
        var gate = new CutCommitGate();
        Assert.True(await gate.TryEnterReadAsync(Long, Token));
        var before = gate.Commits;

        await gate.BeginCommitAsync(TimeSpan.FromMilliseconds(20), Token);

        Assert.NotEqual(before, gate.Commits);
        Assert.Equal(1, gate.Commits % 2);
        gate.ExitRead();
        gate.EndCommit();
        Assert.True(await gate.TryEnterReadAsync(Long, Token));
    }

    [Fact]
    public async Task BeginCommit_Canceled_EndsTheCommitSoReadsGetIn()
    {
        var gate = new CutCommitGate();
        Assert.True(await gate.TryEnterReadAsync(Long, Token));
        using var cancel = new CancellationTokenSource();
        var commit = gate.BeginCommitAsync(Long, cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => commit);
        Assert.Equal(0, gate.Commits % 2);
        Assert.True(await gate.TryEnterReadAsync(Long, Token));
    }
}
