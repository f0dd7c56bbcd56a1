using System.Globalization;
using System.Text.RegularExpressions;

namespace Profefe.Pprof.Tests;

public sealed partial class TopTests
{
    [Fact]
    public void Create_CountsFlatAtLeafAndCumOncePerSample()
    {
        var profile = new TestProfileBuilder()
            .Sample("leaf;mid;main", 1, 10)
            .Sample("mid;main", 1, 5)
            .Sample("leaf;main", 1, 2)
            .Build();

        var top = TopReport.Create(profile);

        Assert.Equal(new SampleType("cpu", "nanoseconds"), top.SampleType);
        Assert.Equal(17, top.Total);
        Assert.Equal(
            [new TopEntry("leaf", 12, 12), new TopEntry("mid", 5, 15), new TopEntry("main", 0, 17)],
            top.Entries);
    }

    [Fact]
    public void Create_CountsRecursiveFunctionOnce_PerSample()
    {
        var profile = new TestProfileBuilder().Sample("fib;fib;fib;main", 1, 7).Build();

        var top = TopReport.Create(profile);

        Assert.Equal([new TopEntry("fib", 7, 7), new TopEntry("main", 0, 7)], top.Entries);
    }

    [Fact]
    public void Create_GivesFlatToInlinedCallee()
    {
        var builder = new TestProfileBuilder();
        builder.Sample("caller;main", 1, 4);
        var location = builder.LocationOf("caller");
        location.Lines = [new Line(builder.FunctionOf("inlined"), 7), .. location.Lines];

        var top = TopReport.Create(builder.Build());

        Assert.Equal(
            [new TopEntry("inlined", 4, 4), new TopEntry("caller", 0, 4), new TopEntry("main", 0, 4)],
            top.Entries);
    }

    [Fact]
    public void Create_SortsByAbsoluteFlatThenName()
    {
        var profile = new TestProfileBuilder()
            .Sample("b", 1, -5)
            .Sample("a", 1, 5)
            .Sample("c", 1, 6)
            .Build();

        var top = TopReport.Create(profile);

        Assert.Equal(["c", "a", "b"], top.Entries.Select(e => e.Name));
        Assert.Equal(16, top.Total);
    }

    [Fact]
    public void Create_UsesChosenSampleType_OrTheDefault()
    {
        var profile = new TestProfileBuilder().Sample("leaf", 3, 30).Build();

        Assert.Equal(30, TopReport.Create(profile).Entries[0].Flat);
        Assert.Equal(3, TopReport.Create(profile, "samples").Entries[0].Flat);
        profile.DefaultSampleType = "samples";
        Assert.Equal(3, TopReport.Create(profile).Entries[0].Flat);
        var error = Assert.Throws<ArgumentException>(() => TopReport.Create(profile, "alloc_space"));
        Assert.StartsWith("sample_index \"alloc_space\" must be one of: [samples cpu]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_NamesUnsymbolizedFramesByBinary()
    {
        var builder = new TestProfileBuilder();
        builder.Sample("main", 1, 1);
        builder.LocationOf("main").Lines = [];

        var top = TopReport.Create(builder.Build());

        Assert.Equal("[app]", Assert.Single(top.Entries).Name);
    }

    [Fact]
    public void Create_TakesTotalFromBase_ForDiff()
    {
        var diff = ProfileDiff.Compute(
            new TestProfileBuilder().Sample("a", 1, 10).Build(),
            new TestProfileBuilder().Sample("a", 1, 4).Build());

        var top = TopReport.Create(diff);

        Assert.Equal(10, top.Total);
        Assert.Equal(new TopEntry("a", -6, -6), Assert.Single(top.Entries));
    }

    public static TheoryData<string> Sets() => [.. GoldenSet.Names()];

    /// <summary>Our top of our merge agrees with what go tool pprof -top printed for its merge.</summary>
    [Theory]
    [MemberData(nameof(Sets))]
    public void Create_MatchesGoTop_ForGoldenSet(string name)
    {
        var set = GoldenSet.Load(name);
        var printed = GoTop.Parse(set.TopText());

        var top = TopReport.Create(set.Actual());

        Assert.Equal(printed.Type, top.SampleType.Type);
        Assert.True(printed.Total.Matches(top.Total), $"total: go printed {printed.Total.Text}, we have {top.Total}");
        var ours = top.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        Assert.NotEmpty(printed.Rows);
        foreach (var row in printed.Rows)
        {
            Assert.True(ours.TryGetValue(row.Name, out var entry), $"go lists {row.Name}, we do not");
            Assert.True(row.Flat.Matches(entry.Flat), $"{row.Name} flat: go printed {row.Flat.Text}, we have {entry.Flat}");
            Assert.True(row.Cum.Matches(entry.Cum), $"{row.Name} cum: go printed {row.Cum.Text}, we have {entry.Cum}");
        }

        // The order go printed is ours too, among the functions it printed.
        var printedNames = printed.Rows.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(
            printed.Rows.Select(r => r.Name),
            top.Entries.Where(e => printedNames.Contains(e.Name)).Select(e => e.Name));
    }

    /// <summary>The parts of go tool pprof -top output the tests compare.</summary>
    private sealed partial record GoTop(string Type, PrintedValue Total, List<GoTopRow> Rows)
    {
        public static GoTop Parse(string text)
        {
            var type = "";
            PrintedValue? total = null;
            var rows = new List<GoTopRow>();
            var inTable = false;
            foreach (var line in text.Split('\n'))
            {
                if (line.StartsWith("Type: ", StringComparison.Ordinal))
                {
                    type = line["Type: ".Length..].Trim();
                }
                else if (TotalLine().Match(line) is { Success: true } match)
                {
                    total = PrintedValue.Parse(match.Groups[1].Value);
                }
                else if (line.TrimStart().StartsWith("flat  flat%", StringComparison.Ordinal))
                {
                    inTable = true;
                }
                else if (inTable && RowLine().Match(line) is { Success: true } row)
                {
                    rows.Add(new GoTopRow(
                        row.Groups[5].Value,
                        PrintedValue.Parse(row.Groups[1].Value),
                        PrintedValue.Parse(row.Groups[3].Value)));
                }
            }

            return new GoTop(type, total ?? throw new InvalidDataException("no total in top output"), rows);
        }

        [GeneratedRegex(@" of (\S+) total$")]
        private static partial Regex TotalLine();

        // flat flat% sum% cum cum% name, then go's "(inline)" or "(partial-inline)" note.
        [GeneratedRegex(@"^\s*(\S+)\s+(\S+)%\s+(?:\S+)%\s+(\S+)\s+(\S+)%\s+(.+?)(?: \((?:partial-)?inline\))?\s*$")]
        private static partial Regex RowLine();
    }

    private sealed record GoTopRow(string Name, PrintedValue Flat, PrintedValue Cum);

    /// <summary>A value as pprof prints it, "10.68s" or "242.84MB" or "12394": equal within the printed precision.</summary>
    private sealed partial record PrintedValue(string Text, double Value, double Tolerance)
    {
        private static readonly Dictionary<string, double> Units = new(StringComparer.Ordinal)
        {
            [""] = 1,
            ["ns"] = 1,
            ["us"] = 1e3,
            ["µs"] = 1e3,
            ["ms"] = 1e6,
            ["s"] = 1e9,
            ["mins"] = 60e9,
            ["hrs"] = 3600e9,
            ["B"] = 1,
            ["kB"] = 1024,
            ["MB"] = 1024.0 * 1024,
            ["GB"] = 1024.0 * 1024 * 1024,
            ["TB"] = 1024.0 * 1024 * 1024 * 1024,
        };

        public static PrintedValue Parse(string text)
        {
            var match = Number().Match(text);
            if (!match.Success || !Units.TryGetValue(match.Groups[2].Value, out var unit))
            {
                throw new InvalidDataException($"cannot read pprof value '{text}'");
            }

            var number = match.Groups[1].Value;
            var dot = number.IndexOf('.', StringComparison.Ordinal);
            var decimals = dot < 0 ? 0 : number.Length - dot - 1;
            var value = double.Parse(number, CultureInfo.InvariantCulture) * unit;
            return new PrintedValue(text, value, (0.5 * Math.Pow(10, -decimals) * unit) + 1e-9);
        }

        public bool Matches(long actual) => Math.Abs(actual - Value) <= Tolerance;

        [GeneratedRegex(@"^(-?[0-9.]+)([a-zA-Zµ]*)$")]
        private static partial Regex Number();
    }
}
