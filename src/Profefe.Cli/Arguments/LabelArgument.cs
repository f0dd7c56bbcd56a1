using Profefe.Client;

namespace Profefe.Cli.Arguments;

/// <summary>Reads --label key=value arguments.</summary>
internal static class LabelArgument
{
    public static ProfileLabel Parse(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            throw new FormatException($"invalid label \"{text}\" (expected key=value)");
        }

        var key = text[..equals].Trim();
        if (key.Length == 0)
        {
            throw new FormatException($"invalid label \"{text}\" (the key is empty)");
        }

        return new ProfileLabel(key, text[(equals + 1)..].Trim());
    }

    public static IReadOnlyList<ProfileLabel> ParseAll(IEnumerable<string>? texts)
    {
        var labels = new List<ProfileLabel>();
        if (texts is not null)
        {
            foreach (var text in texts)
            {
                labels.Add(Parse(text));
            }
        }

        return labels;
    }
}
