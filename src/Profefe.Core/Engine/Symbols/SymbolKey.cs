namespace Profefe.Core.Engine.Symbols;

/// <summary>
/// A variable-length symbol (location, sample label set, profile layout, mapping, function) as the integers
/// that define it, compared by value. One shape for every such table keeps their persistence one piece of code.
/// </summary>
public readonly struct SymbolKey : IEquatable<SymbolKey>
{
    private readonly long[] _values;
    private readonly int _hash;

    public SymbolKey(long[] values)
    {
        _values = values;
        _hash = HashOf(values);
    }

    public ReadOnlySpan<long> Values => _values;

    public bool Equals(SymbolKey other) => _values.AsSpan().SequenceEqual(other._values);

    public override bool Equals(object? obj) => obj is SymbolKey other && Equals(other);

    public override int GetHashCode() => _hash;

    public static bool operator ==(SymbolKey left, SymbolKey right) => left.Equals(right);

    public static bool operator !=(SymbolKey left, SymbolKey right) => !left.Equals(right);

    /// <summary>The hash of the key made of <paramref name="values"/>, without making it.</summary>
    public static int HashOf(ReadOnlySpan<long> values)
    {
        var hash = new HashCode();
        foreach (var value in values)
        {
            hash.Add(value);
        }

        return hash.ToHashCode();
    }
}

/// <summary>
/// Compares <see cref="SymbolKey"/>s, and looks one up by its values alone: the symbolizer then builds a key
/// (an array) only for a symbol its table does not have yet, not for each of a push's thousand lookups.
/// </summary>
public sealed class SymbolKeyComparer : IEqualityComparer<SymbolKey>, IAlternateEqualityComparer<ReadOnlySpan<long>, SymbolKey>
{
    public static SymbolKeyComparer Instance { get; } = new();

    private SymbolKeyComparer()
    {
    }

    public bool Equals(SymbolKey x, SymbolKey y) => x.Equals(y);

    public int GetHashCode(SymbolKey obj) => obj.GetHashCode();

    public bool Equals(ReadOnlySpan<long> alternate, SymbolKey other) => alternate.SequenceEqual(other.Values);

    public int GetHashCode(ReadOnlySpan<long> alternate) => SymbolKey.HashOf(alternate);

    public SymbolKey Create(ReadOnlySpan<long> alternate) => new(alternate.ToArray());
}

/// <summary>A node of a service's stack tree: its caller's node (-1 at the root) and its location.</summary>
public readonly record struct StackNode(int Parent, int Location);
