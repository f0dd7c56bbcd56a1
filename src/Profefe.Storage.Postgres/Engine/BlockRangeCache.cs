using Profefe.Core.Engine;

namespace Profefe.Storage.Postgres.Engine;

/// <summary>
/// The bytes of block ranges read from object storage, least recently used first out, within a byte budget. A pack
/// is written once under a key never reused, so a range's bytes never change: a hit is always exact, and a range of
/// a pack deleted since is simply never asked for again (no index row points into it) and ages out. Without it every
/// merge touching a partial hour fetches the same blocks again, one GET each, where the embedded store reads them
/// from its page cache.
/// </summary>
internal sealed class BlockRangeCache
{
    private readonly long _capacity;
    private readonly Lock _sync = new();
    private readonly Dictionary<EngineObjectRange, LinkedListNode<(EngineObjectRange Range, byte[] Data)>> _entries = [];
    private readonly LinkedList<(EngineObjectRange Range, byte[] Data)> _recency = new();
    private long _bytes;

    /// <param name="capacity">Bytes of block data kept at most; 0 keeps nothing.</param>
    public BlockRangeCache(long capacity)
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

    public bool TryGet(EngineObjectRange range, out byte[] data)
    {
        lock (_sync)
        {
            if (_entries.TryGetValue(range, out var node))
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

    /// <summary>Keeps <paramref name="data"/> (the bytes of <paramref name="range"/>), evicting the least recently used; nothing when it alone exceeds the budget.</summary>
    public void Add(EngineObjectRange range, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length > _capacity)
        {
            return;
        }

        lock (_sync)
        {
            if (_entries.ContainsKey(range))
            {
                return;
            }

            _entries[range] = _recency.AddFirst((range, data));
            _bytes += data.Length;
            while (_bytes > _capacity && _recency.Last is { } oldest)
            {
                _recency.RemoveLast();
                _entries.Remove(oldest.Value.Range);
                _bytes -= oldest.Value.Data.Length;
            }
        }
    }
}
