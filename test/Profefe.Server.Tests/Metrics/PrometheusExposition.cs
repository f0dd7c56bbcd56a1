using System.Globalization;
using System.Text;

namespace Profefe.Server.Tests.Metrics;

/// <summary>
/// A strict reader of the Prometheus text exposition format (version 0.0.4): every line must be a HELP, a TYPE
/// or a sample of a declared family; names, label names, escapes and values must be well formed; a family is
/// declared once, its samples follow its TYPE line and no series repeats. Anything else throws
/// <see cref="FormatException"/> naming the line.
/// </summary>
internal sealed class PrometheusExposition
{
    private static readonly HashSet<string> Types = ["counter", "gauge", "histogram", "summary", "untyped"];

    private readonly Dictionary<string, string> _types = new(StringComparer.Ordinal);
    private readonly List<Sample> _samples = [];

    private PrometheusExposition()
    {
    }

    public IReadOnlyList<Sample> Samples => _samples;

    public IReadOnlyDictionary<string, string> FamilyTypes => _types;

    public static PrometheusExposition Parse(string text)
    {
        if (text.Length > 0 && !text.EndsWith('\n'))
        {
            throw new FormatException("the exposition does not end with a newline");
        }

        var exposition = new PrometheusExposition();
        var helped = new HashSet<string>(StringComparer.Ordinal);
        var series = new HashSet<string>(StringComparer.Ordinal);
        var closed = new HashSet<string>(StringComparer.Ordinal);
        string? current = null;
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length - 1; i++)
        {
            var line = lines[i];
            var where = $"line {i + 1} \"{line}\"";
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith("# HELP ", StringComparison.Ordinal) || line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var rest = line[7..];
                var space = rest.IndexOf(' ', StringComparison.Ordinal);
                var name = space < 0 ? rest : rest[..space];
                RequireName(name, where);
                if (line[2] == 'H')
                {
                    if (!helped.Add(name))
                    {
                        throw new FormatException($"{where}: second HELP for {name}");
                    }
                }
                else
                {
                    var type = space < 0 ? "" : rest[(space + 1)..];
                    if (!Types.Contains(type))
                    {
                        throw new FormatException($"{where}: unknown type \"{type}\"");
                    }

                    if (exposition._types.ContainsKey(name) || closed.Contains(name))
                    {
                        throw new FormatException($"{where}: second TYPE for {name}");
                    }

                    exposition._types.Add(name, type);
                }

                if (current is not null && current != name)
                {
                    closed.Add(current);
                }

                current = name;
                continue;
            }

            if (line.StartsWith('#'))
            {
                continue;
            }

            var sample = ParseSample(line, where);
            var family = FamilyOf(sample.Name, exposition._types);
            if (family is null)
            {
                throw new FormatException($"{where}: sample of {sample.Name} without a TYPE line");
            }

            if (family != current)
            {
                throw new FormatException($"{where}: sample of {family} outside its block (after {current})");
            }

            if (exposition._types[family] == "histogram" && sample.Name == family + "_bucket" && !sample.Labels.ContainsKey("le"))
            {
                throw new FormatException($"{where}: histogram bucket without le");
            }

            if (!series.Add(sample.Name + "{" + string.Join(',', sample.Labels.OrderBy(static l => l.Key, StringComparer.Ordinal)) + "}"))
            {
                throw new FormatException($"{where}: the series repeats");
            }

            exposition._samples.Add(sample);
        }

        return exposition;
    }

    /// <summary>The value of the one sample named <paramref name="name"/> whose labels include <paramref name="labels"/>, or null.</summary>
    public double? Find(string name, params (string Key, string Value)[] labels)
    {
        var found = _samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).ToList();
        return found.Count switch
        {
            0 => null,
            1 => found[0].Value,
            _ => throw new InvalidOperationException($"{found.Count} samples of {name} match"),
        };
    }

    public bool Has(string family) => _types.ContainsKey(family) && _samples.Any(s => FamilyOf(s.Name, _types) == family);

    private static string? FamilyOf(string sampleName, Dictionary<string, string> types)
    {
        if (types.ContainsKey(sampleName))
        {
            return sampleName;
        }

        foreach (var suffix in (string[])["_bucket", "_sum", "_count"])
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal)
                && types.TryGetValue(sampleName[..^suffix.Length], out var type) && type is "histogram" or "summary")
            {
                return sampleName[..^suffix.Length];
            }
        }

        return null;
    }

    private static Sample ParseSample(string line, string where)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ')
        {
            i++;
        }

        var name = line[..i];
        RequireName(name, where);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                var start = i;
                while (i < line.Length && line[i] != '=')
                {
                    i++;
                }

                var label = line[start..i];
                if (!IsName(label, allowColon: false) || label.StartsWith("__", StringComparison.Ordinal))
                {
                    throw new FormatException($"{where}: bad label name \"{label}\"");
                }

                if (i + 1 >= line.Length || line[i + 1] != '"')
                {
                    throw new FormatException($"{where}: label {label} has no quoted value");
                }

                i += 2;
                var value = new StringBuilder();
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new FormatException($"{where}: unterminated value of {label}");
                    }

                    var c = line[i++];
                    if (c == '"')
                    {
                        break;
                    }

                    if (c == '\\')
                    {
                        value.Append(line[i++] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            var other => throw new FormatException($"{where}: bad escape \\{other}"),
                        });
                    }
                    else
                    {
                        value.Append(c);
                    }
                }

                if (!labels.TryAdd(label, value.ToString()))
                {
                    throw new FormatException($"{where}: label {label} twice");
                }

                if (line[i] == ',')
                {
                    i++;
                }
                else if (line[i] != '}')
                {
                    throw new FormatException($"{where}: expected , or }} after label {label}");
                }
            }

            i++;
        }

        if (i >= line.Length || line[i] != ' ')
        {
            throw new FormatException($"{where}: no space before the value");
        }

        var fields = line[(i + 1)..].Split(' ');
        if (fields.Length is < 1 or > 2)
        {
            throw new FormatException($"{where}: expected a value and an optional timestamp");
        }

        var number = fields[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            var text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            var text => throw new FormatException($"{where}: bad value \"{text}\""),
        };
        if (fields.Length == 2 && !long.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            throw new FormatException($"{where}: bad timestamp \"{fields[1]}\"");
        }

        return new Sample(name, labels, number);
    }

    private static void RequireName(string name, string where)
    {
        if (!IsName(name, allowColon: true))
        {
            throw new FormatException($"{where}: bad metric name \"{name}\"");
        }
    }

    private static bool IsName(string name, bool allowColon)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_' && !(allowColon && c == ':'))
            {
                return false;
            }
        }

        return true;
    }

    internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);
}
