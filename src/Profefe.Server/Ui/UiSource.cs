using Microsoft.AspNetCore.Http;
using Profefe.Core.Ingest;
using Profefe.Core.Profiles;
using Profefe.Core.Query;
using Profefe.Core.Storage;

namespace Profefe.Server.Ui;

/// <summary>
/// What a UI view shows: a list of ids, or a query (service, type, labels, range) whose matches are merged.
/// Both map to the profefe API URL that downloads the same profile, so the page can offer it to <c>go tool pprof</c>.
/// </summary>
internal sealed record UiSource(IReadOnlyList<ProfileId> Ids, ProfileQuery? Query)
{
    private static readonly char[] IdSeparators = ['+', ' ', ','];

    /// <summary>Reads <c>{prefix}id</c> (repeatable, or joined by '+' or ',') or else a query from <c>{prefix}from</c>/<c>{prefix}to</c>.</summary>
    public static UiSource Parse(IQueryCollection query, string prefix)
    {
        var ids = new List<ProfileId>();
        foreach (var raw in query[prefix + "id"])
        {
            // '+' joins ids as in profefe's paths; in a query string it arrives as a space.
            foreach (var part in (raw ?? "").Split(IdSeparators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!ProfileId.TryParse(part, out var id))
                {
                    throw ProfileRequestException.BadRequest($"bad \"{prefix}id\" {Quote(part)}: not a profile id");
                }

                ids.Add(id);
            }
        }

        if (ids.Count > 0)
        {
            return new UiSource(ids, null);
        }

        // Service, type and labels are shared by both sides of a comparison; only the range has a prefix.
        var parsed = ProfileRequestParser.ParseQuery(name => name switch
        {
            "from" or "to" => First(query, prefix + name),
            _ => First(query, name),
        });
        ProfileQuerier.CheckMergeable(parsed.Type);
        return new UiSource([], parsed);
    }

    /// <summary>The profefe API path (with query) that downloads this profile.</summary>
    public string DownloadPath()
    {
        if (Query is null)
        {
            var joined = new string[Ids.Count];
            for (var i = 0; i < joined.Length; i++)
            {
                joined[i] = Ids[i].ToString();
            }

            return "/api/0/profiles/" + string.Join('+', joined);
        }

        var path = "/api/0/profiles/merge?service=" + Uri.EscapeDataString(Query.Service)
            + "&type=" + ProfileTypeNames.ToWireName(Query.Type ?? ProfileType.Unknown);
        if (Query.Labels.Count > 0)
        {
            var labels = new string[Query.Labels.Count];
            for (var i = 0; i < labels.Length; i++)
            {
                // The labels parameter is query-unescaped once more by the collector, so escape twice.
                labels[i] = Uri.EscapeDataString(Uri.EscapeDataString(Query.Labels[i].Key)) + "="
                    + Uri.EscapeDataString(Uri.EscapeDataString(Query.Labels[i].Value));
            }

            path += "&labels=" + string.Join(',', labels);
        }

        // profefe's layout takes a fraction of a second after the seconds (as Go's parser does), so the download
        // finds exactly the same profiles, also for a range ending just before the next one starts.
        path += "&from=" + FormatExactTime(Query.From) + "&to=" + FormatExactTime(Query.To);
        if (Query.Limit > 0)
        {
            path += "&limit=" + Query.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return path;
    }

    /// <summary>A value in an error message, quoted the way Go's %q quotes plain text.</summary>
    public static string Quote(string text) =>
        "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>profefe's layout with the fraction of a second when there is one (trailing zeros left out).</summary>
    private static string FormatExactTime(DateTime utc) =>
        utc.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", System.Globalization.CultureInfo.InvariantCulture);

    public static string FormatTime(DateTime utc) =>
        utc.ToString("yyyy-MM-dd'T'HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);

    public static string? First(IQueryCollection query, string name) =>
        query.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;
}
