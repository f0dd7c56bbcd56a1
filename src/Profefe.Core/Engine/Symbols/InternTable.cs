using System.Runtime.InteropServices;

namespace Profefe.Core.Engine.Symbols;

/// <summary>
/// Gives each distinct value a dense id (0, 1, … in order of first appearance). Every table of the symbol
/// store is one of these, so deduplication, persistence watermarks and rollback are written once. Ids below
/// <see cref="Durable"/> are on disk; the rest were added since and are written with the next commit, or
/// dropped by <see cref="DiscardPending"/> when that commit fails.
/// </summary>
public sealed class InternTable<T>
    where T : IEquatable<T>
{
    private readonly Dictionary<T, int> _ids;
    private readonly List<T> _values = [];

    public InternTable(IEqualityComparer<T>? comparer = null) => _ids = new Dictionary<T, int>(comparer);

    public int Count => _values.Count;

    /// <summary>How many leading values are durable.</summary>
    public int Durable { get; private set; }

    public T this[int id] => _values[id];

    /// <summary>Values added since the last <see cref="MarkDurable"/>.</summary>
    public ReadOnlySpan<T> Pending => CollectionsMarshal.AsSpan(_values)[Durable..];

    public int Intern(T value)
    {
        ref var id = ref CollectionsMarshal.GetValueRefOrAddDefault(_ids, value, out var exists);
        if (!exists)
        {
            id = _values.Count;
            _values.Add(value);
        }

        return id;
    }

    /// <summary>
    /// Interns the value equal to <paramref name="alternate"/> (the table's comparer knows how to compare and
    /// build it), building it only when the table does not have it yet.
    /// </summary>
    public int Intern<TAlternate>(TAlternate alternate)
        where TAlternate : notnull, allows ref struct
    {
        var lookup = _ids.GetAlternateLookup<TAlternate>();
        if (lookup.TryGetValue(alternate, out var id))
        {
            return id;
        }

        var value = ((IAlternateEqualityComparer<TAlternate, T>)_ids.Comparer).Create(alternate);
        id = _values.Count;
        _ids.Add(value, id);
        _values.Add(value);
        return id;
    }

    /// <summary>Appends a value read back from disk; its id is its position, as when it was first interned.</summary>
    public void Restore(T value)
    {
        _ids.TryAdd(value, _values.Count);
        _values.Add(value);
        Durable = _values.Count;
    }

    public void MarkDurable() => Durable = _values.Count;

    /// <summary>Forgets the values a failed commit did not write, so ids stay in step with the disk.</summary>
    public void DiscardPending()
    {
        for (var i = Durable; i < _values.Count; i++)
        {
            _ids.Remove(_values[i]);
        }

        _values.RemoveRange(Durable, _values.Count - Durable);
    }
}
