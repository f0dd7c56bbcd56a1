namespace Profefe.Core.Storage;

/// <summary>
/// Whether the store has been taking writes: a store that still answers reads (a full disk) is not ready while
/// every write fails. Not ready for <see cref="FailureMemory"/> after a failed write with no success since, so a
/// collector that load balancers stop sending pushes to turns ready again on its own and can be tried.
/// </summary>
public sealed class StorageWriteStatus(TimeProvider timeProvider)
{
    public static readonly TimeSpan FailureMemory = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private DateTimeOffset _failedAt;
    private string? _failure;

    public void RecordSuccess()
    {
        lock (_lock)
        {
            _failure = null;
        }
    }

    public void RecordFailure(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        lock (_lock)
        {
            _failure = exception.Message;
            _failedAt = timeProvider.GetUtcNow();
        }
    }

    /// <summary>Why writes are failing now, or null when the last write succeeded or failed long enough ago.</summary>
    public string? CurrentFailure()
    {
        lock (_lock)
        {
            return _failure is not null && timeProvider.GetUtcNow() - _failedAt < FailureMemory ? _failure : null;
        }
    }
}
