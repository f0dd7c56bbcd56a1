namespace Profefe.Core.Engine;

/// <summary>
/// Lets this collector's cut commits and the reads at one cursor (<see cref="ProfileEngine.ReadAtCursorAsync"/>) take
/// turns: reads run together, a commit waits for the reads in flight and new reads wait for it. Without it a merge
/// read while the cutter catches up overlapped a commit about every other time and was read again, up to seconds
/// on shared storage. Both waits are bounded, so a hung read or commit never stalls the other side: past them the
/// commit goes ahead and <see cref="Commits"/>, which counts commits twice (odd while one is in flight), tells a
/// read that one landed under it.
/// </summary>
public sealed class CutCommitGate
{
    private readonly Lock _sync = new();
    private long _commits;
    private int _readers;
    private TaskCompletionSource? _readersDone;
    private TaskCompletionSource? _commitDone;

    /// <summary>Commits begun plus commits ended: odd while one is in flight.</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Enters as a reader unless a commit still runs after <paramref name="wait"/>; false then.</summary>
    public async Task<bool> TryEnterReadAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        Task commit;
        lock (_sync)
        {
            if (_commitDone is null)
            {
                _readers++;
                return true;
            }

            commit = _commitDone.Task;
        }

        try
        {
            await commit.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }

        lock (_sync)
        {
            if (_commitDone is not null)
            {
                return false;
            }

            _readers++;
            return true;
        }
    }

    public void ExitRead()
    {
        TaskCompletionSource? done = null;
        lock (_sync)
        {
            if (--_readers == 0 && _readersDone is not null)
            {
                done = _readersDone;
                _readersDone = null;
            }
        }

        done?.TrySetResult();
    }

    /// <summary>
    /// Marks a commit in flight (new reads wait) and waits up to <paramref name="wait"/> for the reads in flight to
    /// end. One commit at a time: the cutter commits under the engine's turn.
    /// </summary>
    public async Task BeginCommitAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        Task? readers = null;
        lock (_sync)
        {
            _commitDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_readers > 0)
            {
                _readersDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                readers = _readersDone.Task;
            }
        }

        if (readers is not null)
        {
            try
            {
                await readers.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // A read that outlasts the wait sees the commit counter move and reads again.
            }
            catch
            {
                Release();
                throw;
            }
        }

        // Counted only now: a read the commit waited for ended untouched by it.
        Interlocked.Increment(ref _commits);
    }

    /// <summary>Ends the commit begun last, landed or failed, and lets waiting reads in.</summary>
    public void EndCommit()
    {
        Interlocked.Increment(ref _commits);
        Release();
    }

    private void Release()
    {
        TaskCompletionSource? done;
        lock (_sync)
        {
            done = _commitDone;
            _commitDone = null;
            _readersDone = null;
        }

        done?.TrySetResult();
    }
}
