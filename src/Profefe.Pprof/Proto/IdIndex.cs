namespace Profefe.Pprof.Proto;

/// <summary>
/// Maps the ids of a profile table (mappings, functions or locations) to positions in the table. Ids are
/// usually dense (1..N), so an array answers most lookups; sparse ids fall back to a dictionary. An id
/// that occurs more than once is remembered as ambiguous rather than rejected, because some profilers
/// repeat ids in entries nothing refers to.
/// </summary>
/// <remarks>
/// A table whose ids are all 0 has no ids at all (Pyroscope's .NET profiler writes functions so and refers
/// to them as 1..N in table order): its entries are then found by position, id k at position k - 1. An id 0
/// still finds the single entry of a one-entry table, as a table numbered from 0 would have it; otherwise
/// it is the unset reference (for a mapping: none).
/// </remarks>
internal sealed class IdIndex
{
    public const int Unknown = -1;
    public const int Ambiguous = -2;

    private readonly int[]? _dense;
    private readonly Dictionary<ulong, int>? _sparse;
    private readonly int _positional = -1;

    public IdIndex(ReadOnlySpan<ulong> ids)
    {
        ulong max = 0;
        foreach (var id in ids)
        {
            max = Math.Max(max, id);
        }

        if (max == 0 && !ids.IsEmpty)
        {
            _positional = ids.Length;
            return;
        }

        // Dense when the array stays proportional to the table, so hostile ids cannot blow up memory.
        if (max < ((ulong)ids.Length * 4) + 1024)
        {
            var dense = new int[(int)max + 1];
            dense.AsSpan().Fill(Unknown);
            for (var i = 0; i < ids.Length; i++)
            {
                ref var slot = ref dense[(int)ids[i]];
                slot = slot == Unknown ? i : Ambiguous;
            }

            _dense = dense;
            return;
        }

        _sparse = new Dictionary<ulong, int>(ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            if (!_sparse.TryAdd(ids[i], i))
            {
                _sparse[ids[i]] = Ambiguous;
            }
        }
    }

    /// <summary>The position of <paramref name="id"/>, <see cref="Unknown"/> or <see cref="Ambiguous"/>.</summary>
    public int Find(ulong id)
    {
        if (_positional > 0)
        {
            return id == 0
                ? _positional == 1 ? 0 : Unknown
                : id <= (ulong)_positional ? (int)(id - 1) : Unknown;
        }

        if (_dense is { } dense)
        {
            return id < (ulong)dense.Length ? dense[(int)id] : Unknown;
        }

        return _sparse!.TryGetValue(id, out var position) ? position : Unknown;
    }
}
