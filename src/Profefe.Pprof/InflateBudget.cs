namespace Profefe.Pprof;

/// <summary>
/// The inflated bytes a process lets its gzip decoders hold at once. Each upload is held to its own limit
/// (<see cref="ProfileDecoderOptions.MaxDecompressedBytes"/>), but eight concurrent 64 MiB bombs next to other work
/// still ran a 4 GiB collector out of memory; with a budget the decoders shared, the ninth is refused instead.
/// Buffers are counted as they grow, so small profiles take a small share. Thread-safe.
/// </summary>
public sealed class InflateBudget
{
    private long _inFlight;

    /// <param name="maxBytes">Bytes that may be held at once; at least 1.</param>
    public InflateBudget(long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        MaxBytes = maxBytes;
    }

    public long MaxBytes { get; }

    /// <summary>Bytes held now.</summary>
    public long InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Takes <paramref name="bytes"/> from the budget, or nothing when that would pass <see cref="MaxBytes"/>.</summary>
    public bool TryReserve(long bytes)
    {
        var current = Volatile.Read(ref _inFlight);
        while (true)
        {
            if (current + bytes > MaxBytes)
            {
                return false;
            }

            var seen = Interlocked.CompareExchange(ref _inFlight, current + bytes, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }
    }

    /// <summary>Takes <paramref name="bytes"/> from the budget.</summary>
    /// <exception cref="ProfileFormatException">
    /// the budget has no room for them (<see cref="ProfileFormatException.ExceededLimit"/> "InflateBudget"): retry shortly.
    /// </exception>
    public void Reserve(long bytes)
    {
        if (!TryReserve(bytes))
        {
            throw new ProfileFormatException(
                $"decompressing profile: the collector is already inflating {InFlight} bytes of other uploads, and {MaxBytes} at once is its limit; retry shortly",
                nameof(ProfileDecoderOptions.InflateBudget));
        }
    }

    /// <summary>Gives back bytes taken with <see cref="TryReserve"/> or <see cref="Reserve"/>.</summary>
    public void Release(long bytes) => Interlocked.Add(ref _inFlight, -bytes);
}
