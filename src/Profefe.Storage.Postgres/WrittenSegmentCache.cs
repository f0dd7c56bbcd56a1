using Profefe.Core.Storage.Segments;

namespace Profefe.Storage.Postgres;

/// <summary>
/// The bytes of the segment objects this collector wrote most recently, least recently used first out, within a byte
/// budget. Right after a burst the engine has not cut the new profiles yet, so merges read them raw from their
/// segments: without this every such read is a ranged GET of bytes the collector held in memory moments before, where
/// the embedded store reads its fresh segment files from the page cache. A segment is written once under an id never
/// reused, so its bytes never change; one deleted since (retention) is never asked for again, since no index row
/// points into it, and ages out.
/// </summary>
internal sealed class WrittenSegmentCache
{
    private readonly long _capacity;
    private readonly Lock _sync = new();
    private readonly Dictionary<SegmentId, LinkedListNode<(SegmentId Id, byte[] Data)>> _entries = [];
    private readonly LinkedList<(SegmentId Id, byte[] Data)> _recency = new();
    private long _bytes;

    /// <param name="capacity">Bytes of segments kept at most; 0 keeps nothing.</param>
    public WrittenSegmentCache(long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
    }

    /// <summary>Bytes held now.</summary>
    public long Bytes
    {
        get
        {
            lock (_sync)
            {
                return _bytes;
            }
        }
    }

    /// <summary>
    /// The whole of segment <paramref name="id"/> when it is held and is <paramref name="size"/> bytes long (the size
    /// the index recorded: anything else is not that object, and the caller reads the object store instead).
    /// </summary>
    public bool TryGet(SegmentId id, long size, out byte[] data)
    {
        lock (_sync)
        {
            if (_entries.TryGetValue(id, out var node) && node.Value.Data.LongLength == size)
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                data = node.Value.Data;
                return true;
            }
        }

        data = [];
        return false;
    }

    /// <summary>
    /// Keeps <paramref name="data"/>, the whole object of segment <paramref name="id"/>, evicting the least recently
    /// used; nothing when it alone exceeds the budget. The caller must not change the array afterwards.
    /// </summary>
    public void Add(SegmentId id, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.LongLength > _capacity)
        {
            return;
        }

        lock (_sync)
        {
            if (_entries.ContainsKey(id))
            {
                return;
            }

            _entries[id] = _recency.AddFirst((id, data));
            _bytes += data.LongLength;
            while (_bytes > _capacity && _recency.Last is { } oldest)
            {
                _recency.RemoveLast();
                _entries.Remove(oldest.Value.Id);
                _bytes -= oldest.Value.Data.LongLength;
            }
        }
    }
}
