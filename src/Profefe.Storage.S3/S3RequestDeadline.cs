namespace Profefe.Storage.S3;

/// <summary>
/// Bounds one SDK request with all its retries. The SDK's Timeout bounds one attempt only, and against a hung
/// server (connections accepted, nothing answered) a request with its retries took several times
/// Timeout × (1 + MaxErrorRetry), longer than clients wait for a 503.
/// </summary>
internal sealed class S3RequestDeadline : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly CancellationToken _caller;

    public S3RequestDeadline(TimeSpan limit, CancellationToken caller)
    {
        _caller = caller;
        Limit = limit;
        _source = CancellationTokenSource.CreateLinkedTokenSource(caller);
        _source.CancelAfter(limit);
    }

    public TimeSpan Limit { get; }

    /// <summary>Cancelled when the caller cancels or the limit passes.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>The limit passed while the caller still wanted the answer.</summary>
    public bool Expired => _source.IsCancellationRequested && !_caller.IsCancellationRequested;

    public void Dispose() => _source.Dispose();
}
