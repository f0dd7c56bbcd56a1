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
        var hash = new HashCode();
        foreach (var value in values)
        {
            hash.Add(value);
        }

        _hash = hash.ToHashCode();
    }

    public ReadOnlySpan<long> Values => _values;

    public bool Equals(SymbolKey other) => _values.AsSpan().SequenceEqual(other._values);

    public override bool Equals(object? obj) => obj is SymbolKey other && Equals(other);

    public override int GetHashCode() => _hash;

    public static bool operator ==(SymbolKey left, SymbolKey right) => left.Equals(right);

    public static bool operator !=(SymbolKey left, SymbolKey right) => !left.Equals(right);
}

/// <summary>A node of a service's stack tree: its caller's node (-1 at the root) and its location.</summary>
public readonly record struct StackNode(int Parent, int Location);
