using System.Globalization;

namespace Profefe.Cli.Arguments;

/// <summary>
/// Reads the times users type: the collector's own layout (2006-01-02T15:04:05, UTC), RFC 3339 with a zone,
/// a date alone, "now", and offsets from now such as -1h, -30m, -7d.
/// </summary>
internal static class TimeArgument
{
    private static readonly string[] UtcLayouts =
    [
        "yyyy-MM-dd'T'HH:mm:ss",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd HH:mm:ss",
        "yyyy-MM-dd'T'HH:mm",
        "yyyy-MM-dd",
    ];

    private static readonly string[] ZonedLayouts =
    [
        "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
    ];

    public static bool TryParse(string? text, DateTimeOffset now, out DateTimeOffset time)
    {
        time = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.Trim();
        if (s.Equals("now", StringComparison.OrdinalIgnoreCase))
        {
            time = now;
            return true;
        }

        // A leading sign marks an offset from now; Go's layout never starts with one.
        if (s[0] is '-' or '+' && GoDuration.TryParse(s, out var offset))
        {
            time = now + offset;
            return true;
        }

        if (DateTimeOffset.TryParseExact(s, ZonedLayouts, CultureInfo.InvariantCulture, DateTimeStyles.None, out time))
        {
            return true;
        }

        if (DateTime.TryParseExact(s, UtcLayouts, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var utc))
        {
            time = new DateTimeOffset(utc, TimeSpan.Zero);
            return true;
        }

        return false;
    }

    public static DateTimeOffset Parse(string text, DateTimeOffset now) =>
        TryParse(text, now, out var time)
            ? time
            : throw new FormatException($"invalid time \"{text}\" (use 2006-01-02T15:04:05 in UTC, RFC 3339 such as 2006-01-02T15:04:05+02:00, \"now\", or an offset such as -1h, -30m, -7d)");
}
