namespace Profefe.Core.Profiles;

/// <summary>A key=value pair attached to a profile when it is stored (service instance, region, version, …).</summary>
public readonly record struct Label(string Key, string Value);

/// <summary>Label filters as profefe applies them: every wanted pair must be present.</summary>
public static class LabelFilter
{
    public static bool HasEvery(IReadOnlyList<Label> labels, IReadOnlyList<Label> wanted)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(wanted);
        foreach (var label in wanted)
        {
            var found = false;
            foreach (var candidate in labels)
            {
                if (candidate == label)
                {
                    found = true;
                    break;
                }
            }

            if (!found)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The value of the first label with <paramref name="key"/>, or "" when there is none (what a group-by groups under).</summary>
    public static string ValueOf(IReadOnlyList<Label> labels, string key)
    {
        ArgumentNullException.ThrowIfNull(labels);
        foreach (var label in labels)
        {
            if (label.Key == key)
            {
                return label.Value;
            }
        }

        return "";
    }
}
