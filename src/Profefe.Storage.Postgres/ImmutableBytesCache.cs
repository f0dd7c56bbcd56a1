namespace Profefe.Storage.Postgres;

/// <summary>
/// Bytes of object storage that never change, least recently used first out, within a byte budget: the engine's
/// block ranges (a pack is written once under a key never reused) and the segments a collector just wrote (likewise).
/// A hit is always exact, since the key names the object and the bytes' extent; bytes of an object deleted since are
/// never asked for again (no index row points into them) and age out.
/// </summary>
/// <typeparam name="TKey">What names the bytes: an object and the range or size of it they are.</typeparam>
internal sealed class ImmutableBytesCache<TKey>
    where TKey : notnull
{
    private readonly long _capacity;
    private readonly Lock _sync = new();
    private readonly Dictionary<TKey, LinkedListNode<(TKey Key, byte[] Data)>> _entries = [];
    private readonly LinkedList<(TKey Key, byte[] Data)> _recency = new();
    private long _bytes;

    /// <param name="capacity">Bytes kept at most; 0 keeps nothing.</param>
    public ImmutableBytesCache(long capacity)
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

    public bool TryGet(TKey key, out byte[] data)
    {
        lock (_sync)
        {
            if (_entries.TryGetValue(key, out var node))
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
    /// Keeps <paramref name="data"/> (the bytes <paramref name="key"/> names), evicting the least recently used; nothing
    /// when it alone exceeds the budget. The caller must not change the array afterwards.
    /// </summary>
    public void Add(TKey key, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.LongLength > _capacity)
        {
            return;
        }

        lock (_sync)
        {
            if (_entries.ContainsKey(key))
            {
                return;
            }

            _entries[key] = _recency.AddFirst((key, data));
            _bytes += data.LongLength;
            while (_bytes > _capacity && _recency.Last is { } oldest)
            {
                _recency.RemoveLast();
                _entries.Remove(oldest.Value.Key);
                _bytes -= oldest.Value.Data.LongLength;
            }
        }
    }
}
