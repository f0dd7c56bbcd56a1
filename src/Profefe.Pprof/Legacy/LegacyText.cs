using System.Buffers;
using System.Text;

namespace Profefe.Pprof.Legacy;

/// <summary>
/// The pieces of Go's strings, strconv and path/filepath packages the legacy parsers rely on, over
/// UTF-8 bytes, with Go's results and error texts (they end up in the messages users see).
/// </summary>
internal static class LegacyText
{
    public static string String(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);

    /// <summary>strings.TrimSpace: trims Unicode white space.</summary>
    public static ReadOnlySpan<byte> TrimSpace(ReadOnlySpan<byte> s)
    {
        while (s.Length > 0)
        {
            if (s[0] < 0x80)
            {
                if (!IsAsciiSpace(s[0]))
                {
                    break;
                }

                s = s[1..];
                continue;
            }

            if (Rune.DecodeFromUtf8(s, out var rune, out var consumed) != OperationStatus.Done || !IsUnicodeSpace(rune.Value))
            {
                break;
            }

            s = s[consumed..];
        }

        while (s.Length > 0)
        {
            if (s[^1] < 0x80)
            {
                if (!IsAsciiSpace(s[^1]))
                {
                    break;
                }

                s = s[..^1];
                continue;
            }

            if (Rune.DecodeLastFromUtf8(s, out var rune, out var consumed) != OperationStatus.Done || !IsUnicodeSpace(rune.Value))
            {
                break;
            }

            s = s[..^consumed];
        }

        return s;
    }

    private static bool IsAsciiSpace(byte b) => b is (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r' or (byte)' ';

    /// <summary>unicode.IsSpace for runes past ASCII.</summary>
    private static bool IsUnicodeSpace(int r) =>
        r is 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A) or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    /// <summary>Go's isSpaceOrComment from the legacy parser.</summary>
    public static bool IsSpaceOrComment(ReadOnlySpan<byte> line)
    {
        var trimmed = TrimSpace(line);
        return trimmed.Length == 0 || trimmed[0] == (byte)'#';
    }

    public static bool IsMemoryMapSentinel(ReadOnlySpan<byte> line) =>
        line.IndexOf("--- Memory map: ---"u8) >= 0 || line.IndexOf("MAPPED_LIBRARIES:"u8) >= 0;

    /// <summary>path/filepath.Base on a Unix system.</summary>
    public static string FilepathBase(string path)
    {
        if (path.Length == 0)
        {
            return ".";
        }

        path = path.TrimEnd('/');
        if (path.Length == 0)
        {
            return "/";
        }

        var slash = path.LastIndexOf('/');
        return slash >= 0 ? path[(slash + 1)..] : path;
    }

    /// <summary>Go's float64 to int64 conversion on amd64: out of range and NaN give the minimum value.</summary>
    public static long FloatToInt64(double d) =>
        double.IsNaN(d) || d >= 9.2233720368547758E18 || d < -9.2233720368547758E18 ? long.MinValue : (long)d;

    /// <summary>Go's integer division, which wraps instead of trapping for MinValue / -1.</summary>
    public static long Divide(long a, long b) => b == -1 ? unchecked(-a) : a / b;

    /// <summary>
    /// Appends every match of Go's <c>0x[0-9a-f]+</c> parsed as a 64-bit number; returns the error text
    /// of parseHexAddresses for a number that does not fit.
    /// </summary>
    public static string? ParseHexAddresses(ReadOnlySpan<byte> s, List<ulong> addresses)
    {
        var i = 0;
        while (i + 2 < s.Length)
        {
            if (s[i] != (byte)'0' || s[i + 1] != (byte)'x' || !IsLowerHex(s[i + 2]))
            {
                i++;
                continue;
            }

            var start = i;
            i += 2;
            while (i < s.Length && IsLowerHex(s[i]))
            {
                i++;
            }

            if (!TryParseUnsigned(s[(start + 2)..i], 16, out var value, out _))
            {
                return "failed to parse as hex 64-bit number: " + String(s[start..i]);
            }

            addresses.Add(value);
        }

        return null;
    }

    private static bool IsLowerHex(byte b) => b is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f');

    /// <summary>strconv.ParseInt(s, base, 64); on failure <paramref name="error"/> is Go's NumError text.</summary>
    public static bool TryParseInt64(ReadOnlySpan<byte> s, int numberBase, out long value, out string error)
    {
        value = 0;
        error = "";
        if (s.Length == 0)
        {
            error = NumError("ParseInt", s, "invalid syntax");
            return false;
        }

        var body = s;
        var negative = false;
        if (s[0] is (byte)'+' or (byte)'-')
        {
            negative = s[0] == (byte)'-';
            body = s[1..];
        }

        if (!TryParseUint64(body, numberBase, out var magnitude, out var rangeError))
        {
            if (!rangeError)
            {
                error = NumError("ParseInt", s, "invalid syntax");
                return false;
            }
        }
        else if (negative ? magnitude <= 1UL << 63 : magnitude < 1UL << 63)
        {
            value = negative ? unchecked(-(long)magnitude) : (long)magnitude;
            return true;
        }

        error = NumError("ParseInt", s, "value out of range");
        return false;
    }

    /// <summary>strconv.ParseUint(s, base, 64).</summary>
    public static bool TryParseUInt64(ReadOnlySpan<byte> s, int numberBase, out ulong value, out string error)
    {
        if (TryParseUint64(s, numberBase, out value, out var rangeError))
        {
            error = "";
            return true;
        }

        error = NumError("ParseUint", s, rangeError ? "value out of range" : "invalid syntax");
        return false;
    }

    private static string NumError(string function, ReadOnlySpan<byte> s, string reason) =>
        "strconv." + function + ": parsing \"" + String(s).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\": " + reason;

    private static bool TryParseUint64(ReadOnlySpan<byte> s, int numberBase, out ulong value, out bool rangeError)
    {
        value = 0;
        rangeError = false;
        if (s.Length == 0)
        {
            return false;
        }

        var original = s;
        var baseZero = numberBase == 0;
        if (baseZero)
        {
            numberBase = 10;
            if (s[0] == (byte)'0')
            {
                var prefix = s.Length >= 3 ? (char)(s[1] | 0x20) : '\0';
                numberBase = prefix switch
                {
                    'b' => 2,
                    'o' => 8,
                    'x' => 16,
                    _ => 8,
                };
                s = s[(numberBase == 8 && prefix != 'o' ? 1 : 2)..];
            }
        }

        if (!TryParseUnsigned(s, numberBase, out value, out rangeError, allowUnderscores: baseZero, out var sawUnderscore))
        {
            return false;
        }

        return !sawUnderscore || UnderscoreOk(original);
    }

    private static bool TryParseUnsigned(ReadOnlySpan<byte> s, int numberBase, out ulong value, out bool rangeError) =>
        TryParseUnsigned(s, numberBase, out value, out rangeError, allowUnderscores: false, out _);

    private static bool TryParseUnsigned(ReadOnlySpan<byte> s, int numberBase, out ulong value, out bool rangeError, bool allowUnderscores, out bool sawUnderscore)
    {
        value = 0;
        rangeError = false;
        sawUnderscore = false;
        var cutoff = (ulong.MaxValue / (ulong)numberBase) + 1;
        foreach (var c in s)
        {
            if (c == (byte)'_' && allowUnderscores)
            {
                sawUnderscore = true;
                continue;
            }

            int digit = c switch
            {
                >= (byte)'0' and <= (byte)'9' => c - '0',
                >= (byte)'a' and <= (byte)'z' => c - 'a' + 10,
                >= (byte)'A' and <= (byte)'Z' => c - 'A' + 10,
                _ => 99,
            };
            if (digit >= numberBase)
            {
                value = 0;
                return false;
            }

            if (value >= cutoff)
            {
                value = ulong.MaxValue;
                rangeError = true;
                return false;
            }

            value *= (ulong)numberBase;
            var next = unchecked(value + (ulong)digit);
            if (next < value)
            {
                value = ulong.MaxValue;
                rangeError = true;
                return false;
            }

            value = next;
        }

        return true;
    }

    /// <summary>Go accepts '_' only between digits (or after a base prefix) when the base comes from the prefix.</summary>
    private static bool UnderscoreOk(ReadOnlySpan<byte> s)
    {
        var saw = '^';
        var i = 0;
        if (s.Length >= 1 && s[0] is (byte)'-' or (byte)'+')
        {
            s = s[1..];
        }

        var hex = false;
        if (s.Length >= 2 && s[0] == (byte)'0' && (char)(s[1] | 0x20) is 'b' or 'o' or 'x')
        {
            i = 2;
            saw = '0';
            hex = (s[1] | 0x20) == 'x';
        }

        for (; i < s.Length; i++)
        {
            var c = s[i];
            var lower = (char)(c | 0x20);
            if (c is >= (byte)'0' and <= (byte)'9' || (hex && lower is >= 'a' and <= 'f'))
            {
                saw = '0';
                continue;
            }

            if (c == (byte)'_')
            {
                if (saw != '0')
                {
                    return false;
                }

                saw = '_';
                continue;
            }

            if (saw == '_')
            {
                return false;
            }

            saw = '!';
        }

        return saw != '_';
    }
}
