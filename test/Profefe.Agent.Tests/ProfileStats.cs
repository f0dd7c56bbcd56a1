using Profefe.Pprof;
using Profefe.Testing;

namespace Profefe.Agent.Tests;

/// <summary>Sums over a profile's samples, the way the assertions about shares and top entries need them.</summary>
internal static class ProfileStats
{
    public const string AppModule = "Profefe.Agent.TestApp";

    /// <summary>The test app's hot loop (70 % of the cpu workload, about half of the sleep workload's wall time).</summary>
    public const string Hot = "Profefe.Agent.TestApp.Hot.Spin";

    /// <summary>The cpu workload's other loop (30 %).</summary>
    public const string Warm = "Profefe.Agent.TestApp.Warm.Spin";

    public static int ValueIndex(Profile profile, string type)
    {
        var index = profile.SampleTypes.FindIndex(t => t.Type == type);
        Assert.True(index >= 0, $"no sample type {type} in [{string.Join(", ", profile.SampleTypes)}]");
        return index;
    }

    /// <summary>The function names of a sample's stack, leaf first.</summary>
    public static IEnumerable<string> Frames(Sample sample) =>
        sample.Locations.SelectMany(l => l.Lines).Select(l => l.Function?.Name ?? "");

    /// <summary>The first frame, from the leaf, in the test app's own code.</summary>
    public static string? FirstAppFrame(Sample sample) =>
        sample.Locations.FirstOrDefault(l => l.Mapping?.File == AppModule)?.Lines.FirstOrDefault().Function?.Name;

    public static long Sum(Profile profile, int valueIndex, Func<Sample, bool> predicate) =>
        profile.Samples.Where(predicate).Sum(s => s.Values[valueIndex]);

    /// <summary>Totals of a value grouped by a key of each sample (samples whose key is null are left out), largest first.</summary>
    public static List<KeyValuePair<string, long>> Totals(Profile profile, int valueIndex, Func<Sample, string?> key) =>
        profile.Samples
            .Select(s => (Key: key(s), Value: s.Values[valueIndex]))
            .Where(x => x.Key is not null)
            .GroupBy(x => x.Key!)
            .Select(g => new KeyValuePair<string, long>(g.Key, g.Sum(x => x.Value)))
            .OrderByDescending(x => x.Value)
            .ToList();

    public static string Describe(List<KeyValuePair<string, long>> totals) =>
        string.Join("; ", totals.Take(8).Select(t => $"{t.Key}={t.Value}"));

    /// <summary>Runs <c>go tool pprof -top</c> on a file or URL and returns the function names of its rows, in order.</summary>
    public static (List<string> Functions, string Output) GoPprofTop(string source)
    {
        var text = GoPprof.Run(source, "-top");
        var rows = new List<string>();
        var inTable = false;
        foreach (var line in text.Split('\n'))
        {
            if (line.Contains("flat%", StringComparison.Ordinal))
            {
                inTable = true;
                continue;
            }

            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (inTable && fields.Length == 6)
            {
                rows.Add(fields[5].Trim());
            }
        }

        return (rows, text);
    }
}
