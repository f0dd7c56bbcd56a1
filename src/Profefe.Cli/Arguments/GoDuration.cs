using System.Globalization;

namespace Profefe.Cli.Arguments;

/// <summary>Durations written the way Go's time.ParseDuration takes them ("90s", "1m30s", "500ms", "-1h"), plus "d" and "w".</summary>
internal static class GoDuration
{
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.Trim().AsSpan();
        var negative = false;
        if (s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        if (s.Length == 0)
        {
            return false;
        }

        // A bare "0" is a valid Go duration; any other number needs a unit.
        if (s is "0")
        {
            return true;
        }

        double ticks = 0;
        while (s.Length > 0)
        {
            var numberLength = 0;
            while (numberLength < s.Length && (char.IsAsciiDigit(s[numberLength]) || s[numberLength] == '.'))
            {
                numberLength++;
            }

            if (numberLength == 0 || !double.TryParse(s[..numberLength], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                return false;
            }

            s = s[numberLength..];
            var unitLength = 0;
            while (unitLength < s.Length && char.IsAsciiLetter(s[unitLength]))
            {
                unitLength++;
            }

            double? unit = s[..unitLength] switch
            {
                "ns" => TimeSpan.TicksPerMillisecond / 1_000_000.0,
                "us" or "µs" => TimeSpan.TicksPerMillisecond / 1000.0,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                "d" => TimeSpan.TicksPerDay,
                "w" => TimeSpan.TicksPerDay * 7,
                _ => null,
            };
            if (unit is null)
            {
                return false;
            }

            ticks += value * unit.Value;
            s = s[unitLength..];
        }

        if (ticks > TimeSpan.MaxValue.Ticks)
        {
            return false;
        }

        duration = TimeSpan.FromTicks((long)Math.Round(ticks));
        if (negative)
        {
            duration = -duration;
        }

        return true;
    }

    public static TimeSpan Parse(string text) =>
        TryParse(text, out var duration)
            ? duration
            : throw new FormatException($"invalid duration \"{text}\" (examples: 30s, 5m, 1h30m, 500ms)");

    public static string Format(TimeSpan duration)
    {
        if (duration.TotalSeconds < 1)
        {
            return duration.TotalMilliseconds.ToString("0.#", CultureInfo.InvariantCulture) + "ms";
        }

        return duration.TotalSeconds < 60
            ? duration.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture) + "s"
            : duration.ToString(duration.TotalHours >= 24 ? @"d\.hh\:mm\:ss" : @"hh\:mm\:ss", CultureInfo.InvariantCulture);
    }
}
