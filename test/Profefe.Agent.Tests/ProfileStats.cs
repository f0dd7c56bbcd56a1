using System.Diagnostics;
using Profefe.Pprof;
using Profefe.Testing;

namespace Profefe.Agent.Tests;

/// <summary>Sums over a profile's samples, the way the assertions about shares and top entries need them.</summary>
internal static class ProfileStats
{
    public const string AppModule = "Profefe.Agent.TestApp";

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

    /// <summary>Runs <c>go tool pprof -top</c> on the profile and returns the function names of its rows, in order.</summary>
    public static async Task<(List<string> Functions, string Output)> GoPprofTopAsync(byte[] data)
    {
        var file = Path.Combine(Path.GetTempPath(), $"profefe-agent-{Guid.NewGuid():n}.pb.gz");
        await File.WriteAllBytesAsync(file, data);
        try
        {
            return await GoPprofTopAsync(file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Runs <c>go tool pprof -top</c> on a file or URL and returns the function names of its rows, in order.</summary>
    public static async Task<(List<string> Functions, string Output)> GoPprofTopAsync(string source)
    {
        var go = ExternalDependency.RequireExecutable("go", "apt-get install golang-go");
        var start = new ProcessStartInfo(go) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["tool", "pprof", "-top", source])
        {
            start.ArgumentList.Add(argument);
        }

        // pprof keeps a copy of every profile it fetches over HTTP: not in the user's home.
        start.Environment["PPROF_TMPDIR"] = Path.GetTempPath();
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        var text = await output + await error;
        Assert.True(process.ExitCode == 0, "go tool pprof failed: " + text);
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
