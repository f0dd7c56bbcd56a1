using System.Collections.Concurrent;
using Profefe.Core.Ingest;

namespace Profefe.Core.Storage.Segments;

/// <summary>
/// Group commit, storage-agnostic: writes to one shard gather into a batch, then one flush writes the whole batch
/// and every write of it completes with the flush's outcome: all acknowledged, or all failed with the flush's
/// exception. A batch closes when <see cref="GroupCommitOptions.Window"/> has passed since its first write, when
/// it is full, or as soon as it holds <see cref="GroupCommitOptions.MinProfiles"/> while a flush of its shard is
/// free; up to <see cref="GroupCommitOptions.MaxFlushes"/> flushes per shard run at once. With every flush busy a
/// batch keeps gathering past its window, so slow storage makes batches bigger rather than adding requests.
/// </summary>
/// <remarks>
/// A write waits for its batch's outcome even when its caller gives up: the batch holds the caller's bytes until
/// its flush ends, so the caller must not reuse them before. Flushes are bounded by the stores' own timeouts.
/// A write that joined a batch gives back the push's <see cref="UploadSlot"/> while the bytes of such writes stay
/// within <see cref="GroupCommitOptions.MaxWaitingBytes"/>: beyond, pushes keep their slots and the upload
/// limiter's queue and 429 bound memory as before.
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
    private long _waitingBytes;

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

    /// <summary>Bytes of writes waiting for their batch without an upload slot (at most <see cref="GroupCommitOptions.MaxWaitingBytes"/>).</summary>
    public long WaitingBytes => Interlocked.Read(ref _waitingBytes);

    /// <summary>
    /// Adds <paramref name="write"/> to <paramref name="shard"/>'s batch; completes once that batch is flushed.
    /// <paramref name="cancellationToken"/> is checked before joining only (see the remarks).
    /// </summary>
    public Task WriteAsync(TShard shard, TWrite write, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        var state = _shards.GetOrAdd(shard, static key => new Shard(key));
        var size = _sizeOf(write);
        var slot = UploadSlot.Current;
        var detached = slot is not null && TryReserveWaiting(size);
        Batch batch;
        var opened = false;
        List<Batch>? start;
        bool timed;
        lock (state)
        {
            if (state.Gathering is null)
            {
                state.Gathering = new Batch();
                opened = true;
            }

            batch = state.Gathering;
            batch.Writes.Add(write);
            batch.Bytes += size;
            if (detached)
            {
                batch.WaitingBytes += size;
            }

            if (batch.Writes.Count >= _options.MaxProfiles || batch.Bytes >= _options.MaxBytes
                || (batch.Writes.Count >= _options.MinProfiles && state.Flushing < _options.MaxFlushes))
            {
                Close(state, batch);
            }

            timed = opened && ReferenceEquals(state.Gathering, batch);
            start = TakeStartable(state);
        }

        if (timed)
        {
            _ = CloseAfterWindowAsync(state, batch);
        }

        Start(state, start);

        // Joined: from here the push only waits for the flush, which an upload slot does not need to bound.
        if (detached)
        {
            slot!.Release();
        }

        return batch.Done.Task;
    }

    /// <summary>Flushes what is gathering now and waits for every flush in flight or queued.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        var tails = new List<Task>();
        foreach (var state in _shards.Values)
        {
            List<Batch>? start;
            lock (state)
            {
                if (state.Gathering is { } batch)
                {
                    Close(state, batch);
                }

                foreach (var unfinished in state.Unfinished)
                {
                    tails.Add(unfinished.Done.Task);
                }

                start = TakeStartable(state);
            }

            Start(state, start);
        }

        await Task.WhenAll(tails).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    private bool TryReserveWaiting(long size)
    {
        if (Interlocked.Add(ref _waitingBytes, size) <= _options.MaxWaitingBytes)
        {
            return true;
        }

        Interlocked.Add(ref _waitingBytes, -size);
        return false;
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

        List<Batch>? start;
        lock (state)
        {
            if (ReferenceEquals(state.Gathering, batch))
            {
                if (state.Flushing < _options.MaxFlushes)
                {
                    Close(state, batch);
                }
                else
                {
                    // Every flush is busy: keep gathering and close when one ends.
                    batch.Due = true;
                }
            }

            start = TakeStartable(state);
        }

        Start(state, start);
    }

    // Called under the shard's lock: the batch stops gathering and waits for a free flush.
    private static void Close(Shard state, Batch batch)
    {
        state.Gathering = null;
        state.Ready.Enqueue(batch);
        state.Unfinished.Add(batch);
    }

    // Called under the shard's lock: the closed batches that may start flushing now, counted as flushing.
    private List<Batch>? TakeStartable(Shard state)
    {
        List<Batch>? start = null;
        while (state.Flushing < _options.MaxFlushes && state.Ready.TryDequeue(out var batch))
        {
            state.Flushing++;
            (start ??= []).Add(batch);
        }

        return start;
    }

    // Outside the lock: a flush that completes synchronously takes the lock again.
    private void Start(Shard state, List<Batch>? batches)
    {
        if (batches is null)
        {
            return;
        }

        foreach (var batch in batches)
        {
            _ = FlushOneAsync(state, batch);
        }
    }

    private async Task FlushOneAsync(Shard state, Batch batch)
    {
        try
        {
            // Not the callers' tokens: the batch is shared, so one caller giving up must not fail the others.
            await _flush(state.Key, batch.Writes, CancellationToken.None).ConfigureAwait(false);
            Finish(state, batch);
            batch.Done.TrySetResult();
        }
        catch (Exception exception)
        {
            Finish(state, batch);
            batch.Done.TrySetException(exception);
        }
    }

    // The batch's bytes are no longer held and its flush is free: the next batch may start before its writers resume.
    private void Finish(Shard state, Batch batch)
    {
        Interlocked.Add(ref _waitingBytes, -batch.WaitingBytes);
        List<Batch>? start;
        lock (state)
        {
            state.Flushing--;
            state.Unfinished.Remove(batch);
            if (state.Gathering is { } gathering && state.Flushing + state.Ready.Count < _options.MaxFlushes
                && (gathering.Due || gathering.Writes.Count >= _options.MinProfiles))
            {
                Close(state, gathering);
            }

            start = TakeStartable(state);
        }

        Start(state, start);
    }

    private sealed class Shard(TShard key)
    {
        public TShard Key { get; } = key;

        public Batch? Gathering { get; set; }

        /// <summary>Closed batches waiting for a free flush, oldest first.</summary>
        public Queue<Batch> Ready { get; } = new();

        /// <summary>Closed batches not yet done (waiting or flushing), for disposal to wait for.</summary>
        public HashSet<Batch> Unfinished { get; } = [];

        public int Flushing { get; set; }
    }

    private sealed class Batch
    {
        public List<TWrite> Writes { get; } = [];

        public long Bytes { get; set; }

        /// <summary>The bytes of this batch's writes that gave back their upload slot.</summary>
        public long WaitingBytes { get; set; }

        /// <summary>The window passed while every flush was busy.</summary>
        public bool Due { get; set; }

        // Continuations run off the flushing thread, so a slow waiter never delays the next batch.
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
