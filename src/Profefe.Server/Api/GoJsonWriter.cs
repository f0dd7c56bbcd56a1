using System.Buffers;
using System.Globalization;
using System.Text;
using Profefe.Core.Profiles;

namespace Profefe.Server.Api;

/// <summary>
/// Writes compact JSON byte for byte as Go's encoding/json does for profefe's replies: HTML characters
/// and U+2028/U+2029 escaped, other non-ASCII text as raw UTF-8, and the envelope followed by "\n".
/// </summary>
internal sealed class GoJsonWriter
{
    private const string Hex = "0123456789abcdef";
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.WrittenMemory;

    public GoJsonWriter Raw(string ascii)
    {
        var span = _buffer.GetSpan(ascii.Length);
        for (var i = 0; i < ascii.Length; i++)
        {
            span[i] = (byte)ascii[i];
        }

        _buffer.Advance(ascii.Length);
        return this;
    }

    public GoJsonWriter Number(long value)
    {
        return Raw(value.ToString(CultureInfo.InvariantCulture));
    }

    public GoJsonWriter String(string value)
    {
        Raw("\"");
        var start = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var escape = Escape(c, value, i);
            if (escape is null)
            {
                continue;
            }

            AppendUtf8(value.AsSpan(start, i - start));
            Raw(escape);
            start = i + 1;
        }

        AppendUtf8(value.AsSpan(start));
        return Raw("\"");
    }

    public GoJsonWriter Meta(ProfileMeta meta)
    {
        Raw("{\"id\":").String(meta.ProfileId.ToString())
            .Raw(",\"type\":").String(ProfileTypeNames.ToWireName(meta.Type))
            .Raw(",\"service\":").String(meta.Service);
        if (meta.Labels.Count > 0)
        {
            Raw(",\"labels\":[");
            for (var i = 0; i < meta.Labels.Count; i++)
            {
                Raw(i == 0 ? "{\"key\":" : ",{\"key\":").String(meta.Labels[i].Key)
                    .Raw(",\"value\":").String(meta.Labels[i].Value).Raw("}");
            }

            Raw("]");
        }

        return Raw(",\"created_at\":").String(FormatCreatedAt(meta.CreatedAt)).Raw("}");
    }

    public GoJsonWriter StringArray(IReadOnlyList<string> values)
    {
        Raw("[");
        for (var i = 0; i < values.Count; i++)
        {
            if (i > 0)
            {
                Raw(",");
            }

            String(values[i]);
        }

        return Raw("]");
    }

    /// <summary>RFC 3339 in UTC truncated to whole seconds, as profefe writes created_at.</summary>
    public static string FormatCreatedAt(DateTime createdAt) =>
        createdAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    // Go's encodeState.string: the escapes it writes, or null for characters written as they are.
    private static string? Escape(char c, string value, int index)
    {
        switch (c)
        {
            case '"':
                return "\\\"";
            case '\\':
                return "\\\\";
            case '\n':
                return "\\n";
            case '\r':
                return "\\r";
            case '\t':
                return "\\t";
            case '<' or '>' or '&' or < ' ':
                return "\\u00" + Hex[c >> 4] + Hex[c & 0xf];
            case '\u2028':
                return "\\u2028";
            case '\u2029':
                return "\\u2029";
            default:
                break;
        }

        // Go replaces invalid UTF-8 with U+FFFD; in a .NET string that is an unpaired surrogate.
        if (char.IsHighSurrogate(c))
        {
            return index + 1 < value.Length && char.IsLowSurrogate(value[index + 1]) ? null : "\\ufffd";
        }

        if (char.IsLowSurrogate(c))
        {
            return index > 0 && char.IsHighSurrogate(value[index - 1]) ? null : "\\ufffd";
        }

        return null;
    }

    private void AppendUtf8(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return;
        }

        var span = _buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        _buffer.Advance(Encoding.UTF8.GetBytes(text, span));
    }
}
