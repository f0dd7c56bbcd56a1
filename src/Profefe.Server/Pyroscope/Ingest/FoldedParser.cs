using System.Globalization;
using System.Text;
using Profefe.Core.Ingest;

namespace Profefe.Server.Pyroscope.Ingest;

/// <summary>
/// Pyroscope's text uploads: folded stacks (<c>a;b;c 12</c> per line, root first; the default format) and
/// <c>format=lines</c> (one stack per line, each worth one sample).
/// </summary>
internal static class FoldedParser
{
    /// <exception cref="ProfileRequestException">422 naming the first line that is not a stack and a value.</exception>
    public static void ParseFolded(ReadOnlySpan<byte> body, StackProfileBuilder builder) => Parse(body, builder, withValues: true);

    public static void ParseLines(ReadOnlySpan<byte> body, StackProfileBuilder builder) => Parse(body, builder, withValues: false);

    private static void Parse(ReadOnlySpan<byte> body, StackProfileBuilder builder, bool withValues)
    {
        var text = DecodeUtf8(body);
        var lineNumber = 0;
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            lineNumber++;
            var line = rawLine.TrimEnd();
            if (line.IsEmpty)
            {
                continue;
            }

            var stack = line;
            long value = 1;
            if (withValues)
            {
                var space = line.LastIndexOf(' ');
                if (space <= 0
                    || !long.TryParse(line[(space + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out value))
                {
                    throw Unprocessable($"line {lineNumber}: want \"frame;frame;... <count>\" (folded stacks, root first), got \"{Shorten(line)}\"");
                }

                stack = line[..space].TrimEnd();
            }

            builder.Add(stack.ToString().Split(';'), value);
        }
    }

    private static string DecodeUtf8(ReadOnlySpan<byte> body)
    {
        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(body);
        }
        catch (DecoderFallbackException)
        {
            throw Unprocessable("the body is not UTF-8 text; for a pprof profile add format=pprof");
        }
    }

    private static string Shorten(ReadOnlySpan<char> line) => line.Length <= 80 ? line.ToString() : line[..80].ToString() + "...";

    private static ProfileRequestException Unprocessable(string message) => new(422, message);
}
