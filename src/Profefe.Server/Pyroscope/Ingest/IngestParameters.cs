using System.Globalization;
using Profefe.Core.Ingest;
using Profefe.Core.Profiles;

namespace Profefe.Server.Pyroscope.Ingest;

/// <summary>
/// The query of a Pyroscope <c>/ingest</c>: <c>name=app[.type]{k=v,…}</c>, <c>from</c>/<c>until</c> (Unix seconds,
/// milliseconds, microseconds or nanoseconds, told apart by their number of digits), <c>sampleRate</c>,
/// <c>spyName</c>, <c>units</c>, <c>aggregationType</c> and <c>format</c>.
/// </summary>
internal sealed record IngestParameters(
    string Application,
    IReadOnlyList<Label> Labels,
    DateTime From,
    DateTime Until,
    int SampleRate,
    string SpyName,
    string Units,
    string AggregationType,
    string Format)
{
    public const int DefaultSampleRate = 100;

    /// <summary>The label Pyroscope gives the SDK's name (nodespy, gospy, …).</summary>
    public const string SpyLabel = "pyroscope_spy";

    /// <exception cref="ProfileRequestException">400 naming the parameter that is wrong.</exception>
    public static IngestParameters Parse(Func<string, string?> query, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(query);
        var (application, labels) = ParseName(query("name"));
        var from = ParseTime(query, "from", now);
        var until = ParseTime(query, "until", now);
        if (from > until)
        {
            throw BadRequest($"\"from\" ({from:O}) is after \"until\" ({until:O})");
        }

        var sampleRate = DefaultSampleRate;
        if (query("sampleRate") is { Length: > 0 } rateText
            && (!int.TryParse(rateText, NumberStyles.None, CultureInfo.InvariantCulture, out sampleRate) || sampleRate <= 0))
        {
            throw BadRequest($"bad \"sampleRate\" \"{rateText}\": want a positive whole number of samples per second");
        }

        var aggregation = query("aggregationType") is { Length: > 0 } a ? a : "sum";
        if (aggregation is not ("sum" or "average"))
        {
            throw BadRequest($"bad \"aggregationType\" \"{aggregation}\": want sum or average");
        }

        var spyName = query("spyName") is { Length: > 0 } spy ? spy : "unknown";
        var units = query("units") is { Length: > 0 } u ? u : "samples";
        return new IngestParameters(application, labels, from, until, sampleRate, spyName, units, aggregation, query("format") ?? "");
    }

    /// <summary>Parses <c>app{k=v,…}</c>; label names as Prometheus allows them (plus '.').</summary>
    public static (string Application, IReadOnlyList<Label> Labels) ParseName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw BadRequest("missing \"name\": want name=<application>{label=value,...}");
        }

        name = name.Trim();
        var brace = name.IndexOf('{', StringComparison.Ordinal);
        var application = (brace < 0 ? name : name[..brace]).Trim();
        if (application.Length == 0)
        {
            throw BadRequest($"bad \"name\" \"{name}\": the application name before '{{' is empty");
        }

        var labels = new List<Label>();
        if (brace >= 0)
        {
            if (!name.EndsWith('}'))
            {
                throw BadRequest($"bad \"name\" \"{name}\": the labels must end with '}}'");
            }

            foreach (var pair in name[(brace + 1)..^1].Split(','))
            {
                if (pair.Trim().Length == 0)
                {
                    continue;
                }

                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                var key = equals < 0 ? pair.Trim() : pair[..equals].Trim();
                if (equals < 0 || !IsLabelName(key))
                {
                    throw BadRequest($"bad \"name\" \"{name}\": label \"{pair.Trim()}\" is not name=value with a name of letters, digits, '_' and '.'");
                }

                labels.Add(new Label(key, pair[(equals + 1)..].Trim()));
            }
        }

        return (application, labels);
    }

    public static bool IsLabelName(string key)
    {
        if (key.Length == 0 || char.IsAsciiDigit(key[0]) || key[0] == '.')
        {
            return false;
        }

        foreach (var c in key)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '_' and not '.')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A Unix time (<see cref="UnixTimeText"/>); absent is now.</summary>
    private static DateTime ParseTime(Func<string, string?> query, string parameter, DateTime now)
    {
        if (query(parameter) is not { Length: > 0 } text)
        {
            return now;
        }

        return UnixTimeText.TryParse(text, out var time)
            ? time
            : throw BadRequest($"bad \"{parameter}\" \"{text}\": want a Unix time in seconds, milliseconds, microseconds or nanoseconds");
    }

    private static ProfileRequestException BadRequest(string message) => new(400, message);
}
