using System.Collections.Concurrent;

namespace Profefe.Core.Storage.Segments;

/// <summary>
/// Group commit, storage-agnostic: writes to one shard gather into a batch for <see cref="GroupCommitOptions.Window"/>
/// (or until the batch is full), then one flush writes the whole batch and every write of it completes with the
/// flush's outcome: all acknowledged, or all failed with the flush's exception. One flush per shard is in flight
/// at a time while the next batch gathers, so a slow flush makes the next batch bigger rather than adding requests.
/// </summary>
/// <remarks>
/// A write waits for its batch's outcome even when its caller gives up: the batch holds the caller's bytes until
/// its flush ends, so the caller must not reuse them before. Flushes are bounded by the stores' own timeouts.
/// </remarks>
public sealed class GroupCommit<TShard, TWrite> : IAsyncDisposable
    where TShard : notnull
{
    public delegate Task FlushAsync(TShard shard, IReadOnlyList<TWrite> writes, CancellationToken cancellationToken);

    private readonly GroupCommitOptions _options;
    private readonly FlushAsync _flush;
    private readonly Func<TWrite, long> _sizeOf;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentDictionary<TShard, Shard> _shards = new();
    private readonly CancellationTokenSource _stopping = new();

    /// <param name="flush">Writes one batch durably; throws when it could not (then nothing of it may be visible).</param>
    /// <param name="sizeOf">A write's bytes, for <see cref="GroupCommitOptions.MaxBytes"/>.</param>
    public GroupCommit(GroupCommitOptions options, FlushAsync flush, Func<TWrite, long> sizeOf, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(flush);
        ArgumentNullException.ThrowIfNull(sizeOf);
        if (new GroupCommitOptionsValidator().Validate(null, options) is { Failed: true } invalid)
        {
            throw new ArgumentException(invalid.FailureMessage, nameof(options));
        }

        _options = options;
        _flush = flush;
        _sizeOf = sizeOf;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// Adds <paramref name="write"/> to <paramref name="shard"/>'s batch; completes once that batch is flushed.
    /// <paramref name="cancellationToken"/> is checked before joining only (see the remarks).
    /// </summary>
    public Task WriteAsync(TShard shard, TWrite write, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        var state = _shards.GetOrAdd(shard, static key => new Shard(key));
        Batch batch;
        var full = false;
        var opened = false;
        lock (state)
        {
            if (state.Gathering is null)
            {
                state.Gathering = new Batch();
                opened = true;
            }

            batch = state.Gathering;
            batch.Writes.Add(write);
            batch.Bytes += _sizeOf(write);
            if (batch.Writes.Count >= _options.MaxProfiles || batch.Bytes >= _options.MaxBytes)
            {
                Close(state, batch);
                full = true;
            }
        }

        if (opened && !full)
        {
            _ = CloseAfterWindowAsync(state, batch);
        }

        return batch.Done.Task;
    }

    /// <summary>Flushes what is gathering now and waits for every flush in flight.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        var tails = new List<Task>();
        foreach (var state in _shards.Values)
        {
            lock (state)
            {
                if (state.Gathering is { } batch)
                {
                    Close(state, batch);
                }

                tails.Add(state.Tail);
            }
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(tails).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task CloseAfterWindowAsync(Shard state, Batch batch)
    {
        try
        {
            await Task.Delay(_options.Window, _timeProvider, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Disposal closes every gathering batch itself.
            return;
        }

        lock (state)
        {
            if (ReferenceEquals(state.Gathering, batch))
            {
                Close(state, batch);
            }
        }
    }

    // Called under the shard's lock: the batch stops gathering and is flushed after the one before it.
    private void Close(Shard state, Batch batch)
    {
        state.Gathering = null;
        state.Tail = FlushAfterAsync(state.Key, state.Tail, batch);
    }

    private async Task FlushAfterAsync(TShard shard, Task previous, Batch batch)
    {
        // The previous flush's outcome belongs to its own writes; this one only waits for its turn.
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            // Not the callers' tokens: the batch is shared, so one caller giving up must not fail the others.
            await _flush(shard, batch.Writes, CancellationToken.None).ConfigureAwait(false);
            batch.Done.TrySetResult();
        }
        catch (Exception exception)
        {
            batch.Done.TrySetException(exception);
        }
    }

    private sealed class Shard(TShard key)
    {
        public TShard Key { get; } = key;

        public Batch? Gathering { get; set; }

        public Task Tail { get; set; } = Task.CompletedTask;
    }

    private sealed class Batch
    {
        public List<TWrite> Writes { get; } = [];

        public long Bytes { get; set; }

        // Continuations run off the flushing thread, so a slow waiter never delays the next batch.
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
