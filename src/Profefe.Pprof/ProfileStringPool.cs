using System.Collections.Concurrent;
using System.Text;

namespace Profefe.Pprof;

/// <summary>
/// Shares equal strings (function names, file names, label keys) between profiles decoded with the same
/// pool, so decoding many profiles of one program, as a merge does, allocates each name once instead of
/// once per profile. Safe to use from several threads. Stops adding once it holds <see cref="MaxCount"/>
/// strings, so a long-lived pool cannot grow without bound.
/// </summary>
public sealed class ProfileStringPool
{
    // Longer strings are rarely repeated and would make the pool hold large objects.
    private const int MaxPooledBytes = 1024;

    private readonly ConcurrentDictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private int _count;

    public ProfileStringPool(int maxCount = 1 << 20)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        MaxCount = maxCount;
        _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int MaxCount { get; }

    public int Count => Volatile.Read(ref _count);

    /// <summary>The pooled string equal to the UTF-8 <paramref name="utf8"/>, added when new.</summary>
    internal string GetOrAdd(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxPooledBytes)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        // UTF-8 never needs more UTF-16 chars than it has bytes.
        Span<char> chars = stackalloc char[utf8.Length];
        chars = chars[..Encoding.UTF8.GetChars(utf8, chars)];
        if (_lookup.TryGetValue(chars, out var pooled))
        {
            return pooled;
        }

        var value = new string(chars);
        if (Volatile.Read(ref _count) < MaxCount && _strings.TryAdd(value, value))
        {
            Interlocked.Increment(ref _count);
        }

        return value;
    }
}
