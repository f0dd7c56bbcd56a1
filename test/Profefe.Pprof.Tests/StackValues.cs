using System.Globalization;
using System.Text;

namespace Profefe.Pprof.Tests;

/// <summary>
/// A profile seen the way the golden comparison sees it: value per stack of function names (leaf first,
/// inlined frames included) plus the sample's labels, summed over samples that print alike.
/// </summary>
internal static class StackValues
{
    public static Dictionary<string, long[]> Of(Profile profile)
    {
        var result = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var key = new StringBuilder();
        foreach (var sample in profile.Samples)
        {
            key.Clear();
            foreach (var location in sample.Locations)
            {
                if (location.Lines.Length == 0)
                {
                    // Unsymbolized: the binary and the offset in it, which merging keeps.
                    var start = location.Mapping?.Start ?? 0;
                    key.Append(CultureInfo.InvariantCulture, $"[{Path.GetFileName(location.Mapping?.File)}]+0x{location.Address - start:x};");
                }

                foreach (var line in location.Lines)
                {
                    key.Append(line.Function?.Name).Append(';');
                }
            }

            AppendLabels(key, sample);
            var text = key.ToString();
            if (!result.TryGetValue(text, out var sum))
            {
                sum = new long[sample.Values.Length];
                result.Add(text, sum);
            }

            for (var i = 0; i < sum.Length; i++)
            {
                sum[i] += sample.Values[i];
            }
        }

        // Stacks whose values cancel out carry nothing to compare.
        foreach (var (text, sum) in result)
        {
            if (Array.TrueForAll(sum, v => v == 0))
            {
                result.Remove(text);
            }
        }

        return result;
    }

    public static long[] Totals(Profile profile)
    {
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

    /// <summary>Fails with the first differences listed when the two profiles differ per stack.</summary>
    public static void AssertSame(Profile expected, Profile actual)
    {
        var want = Of(expected);
        var got = Of(actual);
        var problems = new List<string>();
        foreach (var (stack, values) in want)
        {
            if (!got.TryGetValue(stack, out var ours))
            {
                problems.Add($"missing {Show(values)} {stack}");
            }
            else if (!values.AsSpan().SequenceEqual(ours))
            {
                problems.Add($"want {Show(values)} got {Show(ours)} {stack}");
            }
        }

        foreach (var (stack, values) in got)
        {
            if (!want.ContainsKey(stack))
            {
                problems.Add($"unexpected {Show(values)} {stack}");
            }
        }

        Assert.True(
            problems.Count == 0,
            $"{problems.Count} of {want.Count} stacks differ:\n{string.Join('\n', problems.Take(15))}");
    }

    private static string Show(long[] values) => "[" + string.Join(' ', values) + "]";

    private static void AppendLabels(StringBuilder key, Sample sample)
    {
        if (sample.Labels is { Count: > 0 } labels)
        {
            foreach (var name in labels.Keys.Order(StringComparer.Ordinal))
            {
                key.Append(" {").Append(name).Append('=').AppendJoin(',', labels[name]).Append('}');
            }
        }

        if (sample.NumLabels is { Count: > 0 } numLabels)
        {
            foreach (var name in numLabels.Keys.Order(StringComparer.Ordinal))
            {
                key.Append(" {").Append(name).Append('#').AppendJoin(',', numLabels[name]).Append('}');
            }
        }
    }
}
