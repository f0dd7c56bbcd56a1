using System.Globalization;
using System.Text.RegularExpressions;

namespace Profefe.Server.Tests;

/// <summary>One recorded request and profefe's answer, from test/testdata/contract/profefe-api-v0.md.</summary>
internal sealed record ContractExchange(
    string Number,
    string Title,
    string Method,
    string PathAndQuery,
    ContractBody RequestBody,
    int Status,
    IReadOnlyDictionary<string, string> Headers,
    string? JsonBody,
    ContractBinary? BinaryBody,
    bool EmptyBody,
    string? TextBody);

/// <summary>What the transcript says was sent: a test-data file, a literal, or nothing.</summary>
internal sealed record ContractBody(string? File, int Length, string? Literal);

/// <summary>A binary answer: its size, the start of its SHA-256, and pprof's summary of it when it parsed.</summary>
internal sealed record ContractBinary(int Length, bool Gzip, string Sha256Prefix, IReadOnlyDictionary<string, string>? Pprof);

internal static partial class ContractTranscript
{
    public static IReadOnlyList<ContractExchange> Parse(string markdown)
    {
        var exchanges = new List<ContractExchange>();
        var lines = markdown.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var heading = Heading().Match(lines[i]);
            if (!heading.Success)
            {
                continue;
            }

            // The exchange is the first fenced block after the heading.
            var start = Array.FindIndex(lines, i + 1, l => l.StartsWith("```", StringComparison.Ordinal));
            var end = Array.FindIndex(lines, start + 1, l => l.StartsWith("```", StringComparison.Ordinal));
            exchanges.Add(ParseBlock(heading.Groups[1].Value, heading.Groups[2].Value.Trim(), lines[(start + 1)..end]));
            i = end;
        }

        return exchanges;
    }

    private static ContractExchange ParseBlock(string number, string title, string[] block)
    {
        string? method = null;
        string? path = null;
        var body = new ContractBody(null, 0, null);
        var status = 0;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? json = null;
        string? text = null;
        ContractBinary? binary = null;
        var empty = false;
        foreach (var raw in block)
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("> (", StringComparison.Ordinal))
            {
                body = ParseRequestBody(line);
            }
            else if (line.StartsWith("> ", StringComparison.Ordinal))
            {
                var parts = line[2..].Split(' ', 2);
                (method, path) = (parts[0], parts[1]);
            }
            else if (line.StartsWith("< HTTP/1.1 ", StringComparison.Ordinal))
            {
                status = int.Parse(line.AsSpan(11, 3), CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("< ", StringComparison.Ordinal))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                headers[line[2..colon]] = line[(colon + 1)..].Trim();
            }
            else if (line.StartsWith("<binary body: ", StringComparison.Ordinal))
            {
                var match = Binary().Match(line);
                binary = new ContractBinary(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), match.Groups[2].Value == "yes", match.Groups[3].Value, null);
            }
            else if (line.StartsWith("<pprof: ", StringComparison.Ordinal) && binary is not null)
            {
                var fields = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var field in line["<pprof: ".Length..^1].Split('\t'))
                {
                    var equals = field.IndexOf('=', StringComparison.Ordinal);
                    if (equals > 0)
                    {
                        fields[field[..equals]] = field[(equals + 1)..];
                    }
                }

                binary = binary with { Pprof = fields.Count > 0 ? fields : null };
            }
            else if (line == "<empty body>")
            {
                empty = true;
            }
            else if (line.StartsWith('{'))
            {
                json = line;
            }
            else if (line.Length > 0 && !line.StartsWith('<'))
            {
                text = line;
            }
        }

        return new ContractExchange(number, title, method!, path!, body, status, headers, json, binary, empty, text);
    }

    private static ContractBody ParseRequestBody(string line)
    {
        var file = FileBody().Match(line);
        if (file.Success)
        {
            return new ContractBody(file.Groups[1].Value, int.Parse(file.Groups[2].Value, CultureInfo.InvariantCulture), null);
        }

        var literal = LiteralBody().Match(line);
        return literal.Success ? new ContractBody(null, literal.Groups[1].Value.Length, literal.Groups[1].Value) : new ContractBody(null, 0, null);
    }

    [GeneratedRegex(@"^### (\d{3})\. (.*)$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^<binary body: (\d+) bytes, gzip=(yes|no), sha256=([0-9a-f]+)")]
    private static partial Regex Binary();

    [GeneratedRegex(@"^> \(body: ([^,]+), (\d+) bytes\)$")]
    private static partial Regex FileBody();

    [GeneratedRegex(@"^> \(body: literal string '(.*)'\)$")]
    private static partial Regex LiteralBody();
}
