using Profefe.Core.Text;

namespace Profefe.Core.Profiles;

/// <summary>
/// Parses the <c>labels</c> query parameter exactly as profefe does: split on ',', then on the first '=';
/// key and value are trimmed, then query-unescaped (so a literal comma is written %252C in a URL);
/// empty keys are dropped; the result is sorted by key, keeping the request order of equal keys.
/// </summary>
public static class LabelParser
{
    public static bool TryParse(string? text, out IReadOnlyList<Label> labels, out string error)
    {
        labels = [];
        error = "";
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        var parsed = new List<Label>();
        foreach (var chunk in text.Split(','))
        {
            var equals = chunk.IndexOf('=', StringComparison.Ordinal);
            var rawKey = equals < 0 ? chunk : chunk[..equals];
            var rawValue = equals < 0 ? "" : chunk[(equals + 1)..];
            if (!GoText.TryQueryUnescape(rawKey.Trim(), out var key, out error)
                || !GoText.TryQueryUnescape(rawValue.Trim(), out var value, out error))
            {
                return false;
            }

            if (key.Length == 0)
            {
                continue;
            }

            parsed.Add(new Label(key, value));
        }

        labels = Sort(parsed);
        return true;
    }

    /// <summary>Sorts by key, ordinally and stably, as profefe's storage expects labels.</summary>
    public static IReadOnlyList<Label> Sort(IEnumerable<Label> labels)
    {
        var list = new List<Label>(labels);

        // Insertion sort: stable, and label lists are short.
        for (var i = 1; i < list.Count; i++)
        {
            var current = list[i];
            var j = i - 1;
            while (j >= 0 && string.CompareOrdinal(list[j].Key, current.Key) > 0)
            {
                list[j + 1] = list[j];
                j--;
            }

            list[j + 1] = current;
        }

        return list;
    }
}
