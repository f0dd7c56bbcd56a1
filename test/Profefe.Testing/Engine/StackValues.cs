using System.Text;
using Profefe.Pprof;

namespace Profefe.Testing.Engine;

/// <summary>
/// A profile as what a user reads off it: the summed values of each stack (function names, files and lines, leaf
/// first) with its sample labels. Two profiles are the same merge when these are equal, whatever their ids.
/// </summary>
public static class StackValues
{
    public static Dictionary<string, long[]> Of(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var values = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var sample in profile.Samples)
        {
            var key = Signature(sample);
            if (!values.TryGetValue(key, out var sum))
            {
                sum = new long[sample.Values.Length];
                values[key] = sum;
            }

            for (var i = 0; i < sum.Length; i++)
            {
                sum[i] += sample.Values[i];
            }
        }

        // Stacks that sum to zero are not in a merge.
        foreach (var (key, sum) in values)
        {
            if (Array.TrueForAll(sum, static v => v == 0))
            {
                values.Remove(key);
            }
        }

        return values;
    }

    public static long[] Totals(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var totals = new long[profile.SampleTypes.Count];
        foreach (var sample in profile.Samples)
        {
            for (var i = 0; i < totals.Length; i++)
            {
                totals[i] += sample.Values[i];
            }
        }

        return totals;
    }

    /// <summary>Each sample's signature and values in order: for comparing a rebuilt profile sample by sample.</summary>
    public static List<string> Samples(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return profile.Samples.ConvertAll(static s => Signature(s) + " = " + string.Join(',', s.Values));
    }

    /// <summary>The same values, or the first few differences.</summary>
    public static void AssertSame(Dictionary<string, long[]> expected, Dictionary<string, long[]> actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        var differences = new List<string>();
        foreach (var (key, want) in expected)
        {
            if (!actual.TryGetValue(key, out var have) || !want.AsSpan().SequenceEqual(have))
            {
                differences.Add($"{key}: want {string.Join(',', want)}, have {(have is null ? "nothing" : string.Join(',', have))}");
            }
        }

        foreach (var key in actual.Keys)
        {
            if (!expected.ContainsKey(key))
            {
                differences.Add($"{key}: not expected");
            }
        }

        Assert.True(differences.Count == 0, $"{differences.Count} stacks differ:\n" + string.Join('\n', differences.Take(5)));
    }

    private static string Signature(Sample sample)
    {
        var builder = new StringBuilder();
        foreach (var location in sample.Locations)
        {
            if (location.Lines.Length == 0)
            {
                builder.Append("0x").Append(location.Address.ToString("x", System.Globalization.CultureInfo.InvariantCulture)).Append(';');
            }

            foreach (var line in location.Lines)
            {
                builder.Append(line.Function?.Name).Append('@').Append(line.Function?.Filename).Append(':').Append(line.LineNumber).Append(';');
            }
        }

        if (sample.Labels is not null)
        {
            foreach (var (key, values) in sample.Labels.OrderBy(static l => l.Key, StringComparer.Ordinal))
            {
                builder.Append('{').Append(key).Append('=').AppendJoin(',', values).Append('}');
            }
        }

        if (sample.NumLabels is not null)
        {
            foreach (var (key, values) in sample.NumLabels.OrderBy(static l => l.Key, StringComparer.Ordinal))
            {
                builder.Append('{').Append(key).Append('#').AppendJoin(',', values).Append('}');
            }
        }

        return builder.ToString();
    }
}
