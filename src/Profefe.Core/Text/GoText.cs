using System.Globalization;
using System.Text;

namespace Profefe.Core.Text;

/// <summary>
/// The few Go formatting rules profefe's error texts and labels depend on: strconv.Quote (%q),
/// url.QueryUnescape and time.Time.String(). Clients compare these texts byte for byte.
/// </summary>
internal static class GoText
{
    /// <summary>Go's %q: double-quoted, printable runes kept, others escaped.</summary>
    public static string Quote(string value)
    {
        var builder = new StringBuilder(value.Length + 2);
        builder.Append('"');
        foreach (var rune in value.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '"':
                    builder.Append("\\\"");
                    break;
                case '\\':
                    builder.Append("\\\\");
                    break;
                case '\a':
                    builder.Append("\\a");
                    break;
                case '\b':
                    builder.Append("\\b");
                    break;
                case '\f':
                    builder.Append("\\f");
                    break;
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                case '\v':
                    builder.Append("\\v");
                    break;
                case < 0x20 or 0x7f:
                    builder.Append("\\x").Append(rune.Value.ToString("x2", CultureInfo.InvariantCulture));
                    break;
                case >= 0x80 and < 0xa0:
                    builder.Append("\\u").Append(rune.Value.ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    builder.Append(rune.ToString());
                    break;
            }
        }

        return builder.Append('"').ToString();
    }

    /// <summary>
    /// Go's url.QueryUnescape: '+' is a space, %XX a byte; a bad escape fails with the text Go gives
    /// (<c>invalid URL escape "%zz"</c>).
    /// </summary>
    public static bool TryQueryUnescape(string value, out string result, out string error)
    {
        error = "";
        if (value.AsSpan().IndexOfAny('%', '+') < 0)
        {
            result = value;
            return true;
        }

        var bytes = new List<byte>(value.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '%')
            {
                if (i + 2 >= value.Length || !IsHex(value[i + 1]) || !IsHex(value[i + 2]))
                {
                    var bad = value.Substring(i, Math.Min(3, value.Length - i));
                    result = "";
                    error = "invalid URL escape " + Quote(bad);
                    return false;
                }

                bytes.Add((byte)((HexValue(value[i + 1]) << 4) | HexValue(value[i + 2])));
                i += 2;
            }
            else if (c == '+')
            {
                bytes.Add((byte)' ');
            }
            else if (c < 0x80)
            {
                bytes.Add((byte)c);
            }
            else
            {
                var length = char.IsHighSurrogate(c) && i + 1 < value.Length
                    ? Encoding.UTF8.GetBytes(value.AsSpan(i, 2), utf8)
                    : Encoding.UTF8.GetBytes(value.AsSpan(i, 1), utf8);
                if (char.IsHighSurrogate(c) && i + 1 < value.Length)
                {
                    i++;
                }

                for (var k = 0; k < length; k++)
                {
                    bytes.Add(utf8[k]);
                }
            }
        }

        result = Encoding.UTF8.GetString([.. bytes]);
        return true;
    }

    /// <summary>Go's time.Time.String() for a UTC time: <c>2019-06-01 00:00:00 +0000 UTC</c>.</summary>
    public static string FormatTime(DateTime utc)
    {
        var text = utc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var fraction = utc.Ticks % TimeSpan.TicksPerSecond;
        if (fraction != 0)
        {
            text += "." + (fraction * 100).ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0');
        }

        return text + " +0000 UTC";
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        _ => c - 'A' + 10,
    };
}
