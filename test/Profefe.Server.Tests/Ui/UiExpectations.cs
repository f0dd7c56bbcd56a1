using System.Globalization;
using Profefe.Core.Views;
using Profefe.Pprof;
using Profefe.Testing;

namespace Profefe.Server.Tests.Ui;

/// <summary>What the pages should show, computed from the corpus files directly (decode + merge here, not in the collector).</summary>
internal static class UiExpectations
{
    public static Profile Merge(IEnumerable<string> files)
    {
        var merger = new ProfileMerger();
        foreach (var file in files)
        {
            merger.Add(ProfileDecoder.Decode(TestData.Read("go/" + file + ".pb.gz")));
        }

        return merger.ToProfile();
    }

    /// <summary>The page's percentages: two decimals, as JavaScript's toFixed(2) writes them.</summary>
    public static string Percent(long value, long total) =>
        (value * 100.0 / total).ToString("F2", CultureInfo.InvariantCulture) + "%";

    /// <summary>The share of samples with a frame whose name contains <paramref name="text"/> (case-insensitive).</summary>
    public static long MatchingValue(Profile profile, int sampleIndex, string text)
    {
        long value = 0;
        foreach (var sample in profile.Samples)
        {
            var matched = false;
            foreach (var location in sample.Locations)
            {
                foreach (var line in location.Lines)
                {
                    matched |= line.Function is { } function && function.Name.Contains(text, StringComparison.OrdinalIgnoreCase);
                }
            }

            if (matched)
            {
                value += sample.Values[sampleIndex];
            }
        }

        return value;
    }

    /// <summary>The widest child of the root: name and total.</summary>
    public static (string Name, long Total) WidestTopFrame(FlameGraph graph)
    {
        var level = graph.Levels[1];
        var best = 0;
        for (var i = 0; i < level.Length; i += graph.Stride)
        {
            if (level[i + 1] > level[best + 1])
            {
                best = i;
            }
        }

        return (graph.Names[(int)level[best + 3]], level[best + 1]);
    }

    /// <summary>How many nodes lie below the node at <paramref name="depth"/> spanning [x, x + total).</summary>
    public static int NodesBelow(FlameGraph graph, int depth, long x, long total)
    {
        var count = 0;
        for (var d = depth + 1; d < graph.Levels.Count; d++)
        {
            var level = graph.Levels[d];
            for (var i = 0; i < level.Length; i += graph.Stride)
            {
                count += level[i] >= x && level[i] < x + total ? 1 : 0;
            }
        }

        return count;
    }

    /// <summary>The names at one level, left to right.</summary>
    public static List<string> Names(FlameGraph graph, int depth)
    {
        var level = graph.Levels[depth];
        var names = new List<string>();
        for (var i = 0; i < level.Length; i += graph.Stride)
        {
            names.Add(graph.Names[(int)level[i + 3]]);
        }

        return names;
    }

    /// <summary>
    /// The page's formatValue for bytes and counts: kB/MB/GB of 1024, at most two decimals (rounded half up, as
    /// JavaScript's Math.round), en-US grouping.
    /// </summary>
    public static string Value(long value, string unit)
    {
        static string Fixed(double v) => (Math.Floor((v * 100) + 0.5) / 100).ToString("#,0.##", CultureInfo.InvariantCulture);
        var abs = Math.Abs(value);
        return unit switch
        {
            "bytes" when abs >= 1L << 30 => Fixed(value / (double)(1L << 30)) + " GB",
            "bytes" when abs >= 1L << 20 => Fixed(value / (double)(1L << 20)) + " MB",
            "bytes" when abs >= 1L << 10 => Fixed(value / (double)(1L << 10)) + " kB",
            "bytes" => value.ToString(CultureInfo.InvariantCulture) + " B",
            "count" or "" => value.ToString("#,0", CultureInfo.InvariantCulture),
            _ => value.ToString("#,0", CultureInfo.InvariantCulture) + " " + unit,
        };
    }

    public static string Time(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
}
