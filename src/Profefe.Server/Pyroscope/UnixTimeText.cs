using System.Globalization;

namespace Profefe.Server.Pyroscope;

/// <summary>
/// A Unix time as Pyroscope's clients write it: whole seconds, milliseconds, microseconds or nanoseconds, told apart
/// by the number of digits (13 ms, 16 µs, 19 ns, fewer seconds).
/// </summary>
internal static class UnixTimeText
{
    public static bool TryParse(string text, out DateTime utc)
    {
        utc = default;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        var maxTicks = (DateTime.MaxValue - DateTime.UnixEpoch).Ticks;
        long ticks = text.Length switch
        {
            >= 19 => value / 100,
            >= 16 => value <= maxTicks / 10 ? value * 10 : -1,
            >= 13 => value <= maxTicks / TimeSpan.TicksPerMillisecond ? value * TimeSpan.TicksPerMillisecond : -1,
            _ => value <= maxTicks / TimeSpan.TicksPerSecond ? value * TimeSpan.TicksPerSecond : -1,
        };
        if (ticks < 0 || ticks > maxTicks)
        {
            return false;
        }

        utc = DateTime.UnixEpoch.AddTicks(ticks);
        return true;
    }
}
