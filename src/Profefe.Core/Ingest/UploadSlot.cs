namespace Profefe.Core.Ingest;

/// <summary>
/// The upload slot (Collector:MaxConcurrentUploads) the current push holds, so that a store which batches writes
/// can give it back once the push's bytes are held within its own memory bound and the push only waits for its
/// batch: a slot bounds the bodies being read and stored, and a push waiting a window for a shared flush is
/// neither. Ambient (it flows with the push's async calls) because the store sits layers below the limiter.
/// </summary>
public sealed class UploadSlot : IDisposable
{
    private static readonly AsyncLocal<UploadSlot?> Ambient = new();

    private IDisposable? _lease;

    private UploadSlot(IDisposable lease) => _lease = lease;

    /// <summary>The slot of the push running in this async flow; null outside a push (imports, tests).</summary>
    public static UploadSlot? Current => Ambient.Value;

    /// <summary>Whether the slot was given back.</summary>
    public bool IsReleased => Volatile.Read(ref _lease) is null;

    /// <summary>Makes <paramref name="lease"/> the slot of the push running in this async flow until disposed.</summary>
    public static UploadSlot Hold(IDisposable lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var slot = new UploadSlot(lease);
        Ambient.Value = slot;
        return slot;
    }

    /// <summary>Gives the slot back now (once; later calls do nothing).</summary>
    public void Release() => Interlocked.Exchange(ref _lease, null)?.Dispose();

    public void Dispose()
    {
        Release();
        if (ReferenceEquals(Ambient.Value, this))
        {
            Ambient.Value = null;
        }
    }
}
