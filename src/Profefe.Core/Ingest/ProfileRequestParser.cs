using System.Globalization;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Text;

namespace Profefe.Core.Ingest;

/// <summary>What a POST /api/0/profiles asks to store.</summary>
/// <param name="OneLayoutPerService">
/// Whether the service's profiles of this type must share one sample layout: profefe's merges mix every profile of a
/// service and type, so one odd layout would fail them all. Pyroscope's ingest and push pass false: Pyroscope names a
/// series by its sample types (profile type ids) and its queries select by them, so two layouts of one service are two
/// series there, not a conflict (a folded upload is cpu/nanoseconds, a pprof one samples/count and cpu/nanoseconds).
/// </param>
public sealed record CollectParameters(string Service, ProfileType Type, IReadOnlyList<Label> Labels, DateTime? CreatedAt, bool OneLayoutPerService = true);

/// <summary>
/// Reads the query parameters of profefe's API v0, checking them in profefe's order and failing with
/// profefe's texts. <c>query</c> returns the first value of a parameter, or null when it is absent.
/// </summary>
public static class ProfileRequestParser
{
    /// <summary>
    /// Label filters a find or merge may have: SQLite joins at most 64 tables, and a push has at most
    /// Collector:MaxLabelsPerProfile labels anyway.
    /// </summary>
    public const int MaxLabelFilters = 32;

    private const string GoLayout = "yyyy-MM-dd'T'HH:mm:ss";

    // Times must fit Unix nanoseconds (1677 to 2262), which pprof and the stores use.
    private static readonly DateTime MinTime = DateTime.UnixEpoch.AddTicks(long.MinValue / 100);
    private static readonly DateTime MaxTime = DateTime.UnixEpoch.AddTicks(long.MaxValue / 100);

    public static CollectParameters ParseCollect(Func<string, string?> query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var service = RequireService(query);
        var type = ProfileTypeNames.Parse(query("type"));
        var labels = ParseLabels(query);
        DateTime? createdAt = null;
        if (query("created_at") is { Length: > 0 } createdAtText)
        {
            createdAt = ParseTime(createdAtText, "created_at");
        }

        if (type == ProfileType.Unknown)
        {
            throw ProfileRequestException.BadRequest("unknown profile type");
        }

        return new CollectParameters(service, type, labels, createdAt);
    }

    /// <summary>A find (or merge) query; an unknown or absent type means every type.</summary>
    public static ProfileQuery ParseQuery(Func<string, string?> query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var service = RequireService(query);
        var type = ProfileTypeNames.Parse(query("type"));
        var labels = ParseLabels(query);
        if (labels.Count > MaxLabelFilters)
        {
            throw ProfileRequestException.BadRequest($"{labels.Count} label filters, more than the limit of {MaxLabelFilters}");
        }

        var from = ParseBound(query, "from");
        var to = ParseBound(query, "to");
        var limit = 0;
        if (query("limit") is { Length: > 0 } limitText)
        {
            limit = ParseLimit(limitText);
        }

        if (from > to)
        {
            throw ProfileRequestException.BadRequest(
                $"CreatedAtMin after CreatedAtMax: {GoText.FormatTime(from)}, {GoText.FormatTime(to)}");
        }

        return new ProfileQuery(service, type == ProfileType.Unknown ? null : type, labels, from, to, limit);
    }

    /// <summary>
    /// profefe's layout <c>2006-01-02T15:04:05</c> (UTC, optional fraction of a second as Go allows),
    /// or RFC 3339 with a zone; the result is UTC.
    /// </summary>
    public static bool TryParseTime(string text, out DateTime utc)
    {
        utc = default;
        var span = text.AsSpan();
        // The fixed part must be exactly 19 characters with two-digit fields, as Go's parser requires.
        if (span.Length < 19)
        {
            return false;
        }

        var head = span[..19];
        if (!DateTime.TryParseExact(head, GoLayout, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var value))
        {
            return false;
        }

        var rest = span[19..];
        long fractionTicks = 0;
        if (rest.Length > 0 && (rest[0] == '.' || rest[0] == ','))
        {
            var digits = 1;
            while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
            {
                digits++;
            }

            if (digits == 1 || digits > 10)
            {
                return false;
            }

            // Nanoseconds, padded to nine digits; .NET keeps 100 ns ticks.
            var nanos = long.Parse(rest[1..digits], CultureInfo.InvariantCulture);
            for (var i = digits - 1; i < 9; i++)
            {
                nanos *= 10;
            }

            fractionTicks = nanos / 100;
            rest = rest[digits..];
        }

        var offset = TimeSpan.Zero;
        if (rest.Length > 0 && !TryParseZone(rest, out offset))
        {
            return false;
        }

        var local = value.AddTicks(fractionTicks);
        if (local - DateTime.MinValue < offset || DateTime.MaxValue - local < -offset)
        {
            return false;
        }

        utc = DateTime.SpecifyKind(local - offset, DateTimeKind.Utc);

        // Go rejects the zero time (profefe checks tm.IsZero()); the stores cannot keep times beyond Unix nanoseconds.
        return utc != DateTime.MinValue && utc >= MinTime && utc <= MaxTime;
    }

    private static bool TryParseZone(ReadOnlySpan<char> zone, out TimeSpan offset)
    {
        offset = TimeSpan.Zero;
        if (zone is "Z")
        {
            return true;
        }

        if (zone.Length != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':'
            || !TryParseDigits(zone[1..3], out var hours) || !TryParseDigits(zone[4..6], out var minutes)
            || hours > 23 || minutes > 59)
        {
            return false;
        }

        offset = new TimeSpan(hours, minutes, 0);
        if (zone[0] == '-')
        {
            offset = -offset;
        }

        return true;
    }

    private static bool TryParseDigits(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }

    private static string RequireService(Func<string, string?> query)
    {
        if (query("service") is not { Length: > 0 } service)
        {
            throw ProfileRequestException.BadRequest("missing \"service\"");
        }

        return service.Contains('\0', StringComparison.Ordinal) ? throw ProfileRequestException.BadRequest("\"service\" must not contain a NUL character") : service;
    }

    private static IReadOnlyList<Label> ParseLabels(Func<string, string?> query)
    {
        var raw = query("labels");
        if (!LabelParser.TryParse(raw, out var labels, out var error))
        {
            throw ProfileRequestException.BadRequest($"bad \"labels\" {GoText.Quote(raw!)}: {error}");
        }

        foreach (var label in labels)
        {
            if (label.Key.Contains('\0', StringComparison.Ordinal) || label.Value.Contains('\0', StringComparison.Ordinal))
            {
                throw ProfileRequestException.BadRequest("\"labels\" must not contain a NUL character");
            }
        }

        return labels;
    }

    private static DateTime ParseBound(Func<string, string?> query, string name)
    {
        if (query(name) is not { Length: > 0 } text)
        {
            throw ProfileRequestException.BadRequest($"missing \"{name}\"");
        }

        return TryParseTime(text, out var value)
            ? value
            : throw ProfileRequestException.BadRequest(
                $"bad \"{name}\" timestamp {GoText.Quote(text)}: time in unsupported format {GoText.Quote(text)}");
    }

    private static DateTime ParseTime(string text, string name) =>
        TryParseTime(text, out var value)
            ? value
            : throw ProfileRequestException.BadRequest(
                $"bad \"{name}\" {GoText.Quote(text)}: time in unsupported format {GoText.Quote(text)}");

    // Go's strconv.Atoi on a 64-bit platform: optional sign, decimal digits, int64 range.
    private static int ParseLimit(string text)
    {
        var digits = text.AsSpan();
        var negative = false;
        if (digits.Length > 0 && (digits[0] == '+' || digits[0] == '-'))
        {
            negative = digits[0] == '-';
            digits = digits[1..];
        }

        if (digits.Length == 0 || digits.ContainsAnyExceptInRange('0', '9'))
        {
            throw LimitError(text, "invalid syntax");
        }

        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            && !(negative && digits.SequenceEqual("9223372036854775808")))
        {
            throw LimitError(text, "value out of range");
        }

        // Any non-positive limit means "no limit"; huge limits cannot be exceeded anyway.
        return negative ? 0 : (int)Math.Min(value, int.MaxValue);
    }

    private static ProfileRequestException LimitError(string text, string reason) =>
        ProfileRequestException.BadRequest($"bad \"limit\" {GoText.Quote(text)}: strconv.Atoi: parsing {GoText.Quote(text)}: {reason}");
}
