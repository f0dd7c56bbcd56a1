using Microsoft.Extensions.Time.Testing;
using Profefe.Core.Storage;
using Profefe.Core.Storage.Segments;

namespace Profefe.Core.Tests.Storage.Segments;

public sealed class GroupCommitTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(250);

    private readonly FakeTimeProvider _time = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;
    private readonly List<(string Shard, string[] Writes)> _flushed = [];

    [Fact]
    public async Task WriteAsync_WritesWithinTheWindow_AreFlushedAsOneBatchWhenItEnds()
    {
        await using var commit = Create(static (_, _) => Task.CompletedTask);

        var writes = new[] { commit.WriteAsync("a", "1", Token), commit.WriteAsync("a", "2", Token), commit.WriteAsync("a", "3", Token) };
        _time.Advance(Window - TimeSpan.FromMilliseconds(1));
        Assert.DoesNotContain(writes, static w => w.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await Task.WhenAll(writes);

        var (shard, batch) = Assert.Single(_flushed);
        Assert.Equal("a", shard);
        Assert.Equal(["1", "2", "3"], batch);
    }

    [Fact]
    public async Task WriteAsync_BatchFull_IsFlushedBeforeTheWindowEnds()
    {
        await using var commit = Create(static (_, _) => Task.CompletedTask, new GroupCommitOptions { Window = Window, MaxProfiles = 2 });

        await Task.WhenAll(commit.WriteAsync("a", "1", Token), commit.WriteAsync("a", "2", Token));
        var third = commit.WriteAsync("a", "3", Token);

        Assert.Equal(["1", "2"], Assert.Single(_flushed).Writes);
        Assert.False(third.IsCompleted);
    }

    [Fact]
    public async Task WriteAsync_BatchBytesReachMax_IsFlushedBeforeTheWindowEnds()
    {
        await using var commit = Create(static (_, _) => Task.CompletedTask, new GroupCommitOptions { Window = Window, MaxBytes = 5 });

        await Task.WhenAll(commit.WriteAsync("a", "12", Token), commit.WriteAsync("a", "345", Token));

        Assert.Equal(["12", "345"], Assert.Single(_flushed).Writes);
    }

    [Fact]
    public async Task WriteAsync_FlushFails_FailsEveryWriteOfTheBatchAndNotTheNext()
    {
        var fail = true;
        await using var commit = Create((_, _) => fail ? throw new StorageUnavailableException("s3", "down", null) : Task.CompletedTask);

        var first = commit.WriteAsync("a", "1", Token);
        var second = commit.WriteAsync("a", "2", Token);
        _time.Advance(Window);
        Assert.Equal("s3", (await Assert.ThrowsAsync<StorageUnavailableException>(() => first)).Dependency);
        await Assert.ThrowsAsync<StorageUnavailableException>(() => second);

        fail = false;
        var third = commit.WriteAsync("a", "3", Token);
        _time.Advance(Window);
        await third;
        Assert.Equal(2, _flushed.Count);
    }

    [Fact]
    public async Task WriteAsync_FlushInFlight_NextBatchGathersAndIsFlushedAfterIt()
    {
        var release = new TaskCompletionSource();
        var running = 0;
        var mostAtOnce = 0;
        await using var commit = Create(async (_, _) =>
        {
            mostAtOnce = Math.Max(mostAtOnce, Interlocked.Increment(ref running));
            await release.Task;
            Interlocked.Decrement(ref running);
        });

        var first = commit.WriteAsync("a", "1", Token);
        _time.Advance(Window);
        var second = commit.WriteAsync("a", "2", Token);
        var third = commit.WriteAsync("a", "3", Token);
        _time.Advance(Window);
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);
        release.SetResult();
        await Task.WhenAll(first, second, third);

        Assert.Equal(1, mostAtOnce);
        Assert.Equal(["1"], _flushed[0].Writes);
        Assert.Equal(["2", "3"], _flushed[1].Writes);
    }

    [Fact]
    public async Task WriteAsync_TwoShards_AreFlushedAsTwoBatches()
    {
        await using var commit = Create(static (_, _) => Task.CompletedTask);

        var writes = new[] { commit.WriteAsync("a", "1", Token), commit.WriteAsync("b", "2", Token), commit.WriteAsync("a", "3", Token) };
        _time.Advance(Window);
        await Task.WhenAll(writes);

        Assert.Equal(2, _flushed.Count);
        Assert.Contains(("a", new[] { "1", "3" }), _flushed.Select(static f => (f.Shard, f.Writes)), new BatchComparer());
        Assert.Contains(("b", new[] { "2" }), _flushed.Select(static f => (f.Shard, f.Writes)), new BatchComparer());
    }

    [Fact]
    public async Task DisposeAsync_BatchGathering_FlushesItWithoutWaitingForTheWindow()
    {
        var commit = Create(static (_, _) => Task.CompletedTask);
        var write = commit.WriteAsync("a", "1", Token);

        await commit.DisposeAsync();

        await write;
        Assert.Equal(["1"], Assert.Single(_flushed).Writes);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => commit.WriteAsync("a", "2", Token));
    }

    [Fact]
    public void Constructor_ZeroWindow_ThrowsNamingTheSetting()
    {
        var exception = Assert.Throws<ArgumentException>(() => Create(static (_, _) => Task.CompletedTask, new GroupCommitOptions { Window = TimeSpan.Zero }));

        Assert.Contains("Storage:Segments:Window", exception.Message, StringComparison.Ordinal);
    }

    private GroupCommit<string, string> Create(Func<string, IReadOnlyList<string>, Task> flush, GroupCommitOptions? options = null) =>
        new(options ?? new GroupCommitOptions { Window = Window }, async (shard, writes, _) =>
        {
            lock (_flushed)
            {
                _flushed.Add((shard, writes.ToArray()));
            }

            await flush(shard, writes);
        }, static w => w.Length, _time);

    private sealed class BatchComparer : IEqualityComparer<(string Shard, string[] Writes)>
    {
        public bool Equals((string Shard, string[] Writes) x, (string Shard, string[] Writes) y) => x.Shard == y.Shard && x.Writes.SequenceEqual(y.Writes);

        public int GetHashCode((string Shard, string[] Writes) obj) => obj.Shard.GetHashCode(StringComparison.Ordinal);
    }
}
