using System.Threading.RateLimiting;
using Microsoft.Extensions.Time.Testing;
using Profefe.Core.Ingest;
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
    public async Task WriteAsync_EveryFlushBusy_NextBatchGathersAndIsFlushedAfterIt()
    {
        var release = new TaskCompletionSource();
        var running = 0;
        var mostAtOnce = 0;
        await using var commit = Create(async (_, _) =>
        {
            mostAtOnce = Math.Max(mostAtOnce, Interlocked.Increment(ref running));
            await release.Task;
            Interlocked.Decrement(ref running);
        }, new GroupCommitOptions { Window = Window, MaxFlushes = 1 });

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
    public async Task WriteAsync_FlushesBelowMaxFlushes_RunSideBySide()
    {
        var release = new TaskCompletionSource();
        var running = 0;
        var mostAtOnce = 0;
        await using var commit = Create(async (_, _) =>
        {
            mostAtOnce = Math.Max(mostAtOnce, Interlocked.Increment(ref running));
            await release.Task;
            Interlocked.Decrement(ref running);
        }, new GroupCommitOptions { Window = Window, MaxFlushes = 2 });

        var first = commit.WriteAsync("a", "1", Token);
        _time.Advance(Window);
        var second = commit.WriteAsync("a", "2", Token);
        _time.Advance(Window);
        var third = commit.WriteAsync("a", "3", Token);
        _time.Advance(Window);

        Assert.Equal(2, _flushed.Count);
        Assert.Equal(2, mostAtOnce);
        release.SetResult();
        await Task.WhenAll(first, second, third);
        Assert.Equal(["3"], _flushed[2].Writes);
    }

    [Fact]
    public async Task WriteAsync_MinProfilesGatheredWithAFlushFree_IsFlushedBeforeTheWindowEnds()
    {
        await using var commit = Create(static (_, _) => Task.CompletedTask, new GroupCommitOptions { Window = Window, MinProfiles = 2 });

        await Task.WhenAll(commit.WriteAsync("a", "1", Token), commit.WriteAsync("a", "2", Token));

        Assert.Equal(["1", "2"], Assert.Single(_flushed).Writes);
    }

    [Fact]
    public async Task WriteAsync_MinProfilesGatheredWithEveryFlushBusy_KeepsGatheringUntilAFlushEnds()
    {
        var release = new TaskCompletionSource();
        await using var commit = Create(_ => release.Task, new GroupCommitOptions { Window = Window, MinProfiles = 2, MaxFlushes = 1 });

        var first = new[] { commit.WriteAsync("a", "1", Token), commit.WriteAsync("a", "2", Token) };
        var next = new[] { commit.WriteAsync("a", "3", Token), commit.WriteAsync("a", "4", Token), commit.WriteAsync("a", "5", Token) };
        Assert.Single(_flushed);

        release.SetResult();
        await Task.WhenAll(first.Concat(next));
        Assert.Equal(["3", "4", "5"], _flushed[1].Writes);
    }

    [Fact]
    public async Task WriteAsync_WindowEndsWithEveryFlushBusy_BatchIsFlushedWhenAFlushEnds()
    {
        var release = new TaskCompletionSource();
        await using var commit = Create(_ => release.Task, new GroupCommitOptions { Window = Window, MaxFlushes = 1 });

        var first = commit.WriteAsync("a", "1", Token);
        _time.Advance(Window);
        var second = commit.WriteAsync("a", "2", Token);
        _time.Advance(Window);
        var third = commit.WriteAsync("a", "3", Token);
        Assert.Single(_flushed);

        release.SetResult();
        await Task.WhenAll(first, second, third);
        Assert.Equal(["2", "3"], _flushed[1].Writes);
    }

    [Fact]
    public async Task WriteAsync_JoinedWithinMaxWaitingBytes_GivesBackTheUploadSlotUntilTheFlushEnds()
    {
        using var uploads = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = 1, QueueLimit = 0 });
        var release = new TaskCompletionSource();
        await using var commit = Create(_ => release.Task, new GroupCommitOptions { Window = Window, MaxWaitingBytes = 5 });

        var first = await PushAsync(commit, uploads, "123");
        Assert.True(first.Slot.IsReleased);
        Assert.Equal(3, commit.WaitingBytes);
        var second = await PushAsync(commit, uploads, "45");
        Assert.True(second.Slot.IsReleased);
        Assert.Equal(5, commit.WaitingBytes);

        _time.Advance(Window);
        release.SetResult();
        await Task.WhenAll(first.Write, second.Write);
        Assert.Equal(0, commit.WaitingBytes);
        Assert.Equal(["123", "45"], Assert.Single(_flushed).Writes);
    }

    [Fact]
    public async Task WriteAsync_OverMaxWaitingBytes_KeepsTheUploadSlotUntilItsBatchIsFlushed()
    {
        using var uploads = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = 2, QueueLimit = 0 });
        var release = new TaskCompletionSource();
        await using var commit = Create(_ => release.Task, new GroupCommitOptions { Window = Window, MaxWaitingBytes = 4 });

        var first = await PushAsync(commit, uploads, "123");
        var second = await PushAsync(commit, uploads, "45");

        Assert.True(first.Slot.IsReleased);
        Assert.False(second.Slot.IsReleased);
        Assert.Equal(3, commit.WaitingBytes);
        using (var third = uploads.AttemptAcquire())
        {
            // One slot given back, one still held by the push over the bound: the limiter has exactly one free.
            Assert.True(third.IsAcquired);
            Assert.False(uploads.AttemptAcquire().IsAcquired);
        }

        _time.Advance(Window);
        release.SetResult();
        await Task.WhenAll(first.Write, second.Write);
        Assert.Equal(0, commit.WaitingBytes);
    }

    [Fact]
    public async Task WriteAsync_NoUploadSlot_CountsNothingAsWaiting()
    {
        await using var commit = Create(static (_, _) => Task.CompletedTask);

        var write = commit.WriteAsync("a", "123", Token);

        Assert.Equal(0, commit.WaitingBytes);
        _time.Advance(Window);
        await write;
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

    // A push as the collector runs it: the limiter's slot held around the write, as RequestLimitMiddleware does.
    private static Task<(Task Write, UploadSlot Slot)> PushAsync(GroupCommit<string, string> commit, ConcurrencyLimiter uploads, string write)
    {
        var lease = uploads.AttemptAcquire();
        Assert.True(lease.IsAcquired);

        // Its own flow, like a request's: the slot is ambient in it only.
        return Task.Run(() =>
        {
            var slot = UploadSlot.Hold(lease);
            return (commit.WriteAsync("a", write, Token), slot);
        });
    }

    private GroupCommit<string, string> Create(Func<IReadOnlyList<string>, Task> flush, GroupCommitOptions options) =>
        Create((_, writes) => flush(writes), options);

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
