using System.Buffers;
using System.Globalization;
using System.Text;

namespace Profefe.Core.Text;

/// <summary>
/// Escapes control characters in text taken from requests before it goes to a log, so a path or service name
/// holding "\n" cannot forge log lines or terminal escapes.
/// </summary>
public static class ControlCharacters
{
    private static readonly SearchValues<char> Controls = SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\u007f\u0085\u2028\u2029\\");

    /// <summary>The text with control characters (and the backslash) written as \xNN or \uNNNN; the same string when there are none.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? "";
        }

        var first = text.AsSpan().IndexOfAny(Controls);
        if (first < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16).Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\\')
            {
                builder.Append("\\\\");
            }
            else if (Controls.Contains(c))
            {
                builder.Append(c <= 0xff ? "\\x" + ((int)c).ToString("x2", CultureInfo.InvariantCulture) : "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
