using System.Globalization;
using System.Text.RegularExpressions;
using Profefe.Core.Views;
using Profefe.Pprof;
using Profefe.Testing.Profiles;

namespace Profefe.Core.Tests.Views;

public sealed partial class TopTableBuilderTests
{
    [Fact]
    public void Build_CountsFlatAtTheLeafAndCumOncePerSample()
    {
        var profile = ViewProfiles.Cpu(("main;fib;fib;fib", 30), ("main;hash", 10), ("main", 5));

        var table = TopTableBuilder.Build(profile, 1);

        Assert.Equal(45, table.Total);
        Assert.Null(table.BaseTotal);
        Assert.Equal(["fib", "hash", "main"], table.Rows.Select(r => r.Name));
        var fib = table.Rows[0];
        Assert.Equal((30L, 30L, "fib.go"), (fib.Flat, fib.Cum, fib.File));
        var main = table.Rows[2];
        Assert.Equal((5L, 45L), (main.Flat, main.Cum));
    }

    [Fact]
    public void Build_SortsLikeGoPprof_ByAbsoluteFlatThenNameThenAbsoluteCum()
    {
        var profile = ViewProfiles.Cpu(("main;b", -5), ("main;a", 5), ("main;c", 6), ("x;d", 1), ("y;d", 1), ("z", 2));

        var table = TopTableBuilder.Build(profile, 1);

        // main and x/y/z: flat 0 sorts by name; d (flat 2) and z (flat 2) by name before cum.
        Assert.Equal(["c", "a", "b", "d", "z", "main", "x", "y"], table.Rows.Select(r => r.Name));
        Assert.Equal(20, table.Total);
    }

    [Fact]
    public void Build_GivesFlatToTheInlinedCallee()
    {
        var profile = ViewProfiles.Cpu(("main;caller", 4));
        var caller = profile.Locations.Single(l => l.Lines[0].Function!.Name == "caller");
        var inlined = new Function { Id = 99, Name = "inlined", Filename = "inlined.go" };
        profile.Functions.Add(inlined);
        caller.Lines = [new Line(inlined, 7), .. caller.Lines];

        var table = TopTableBuilder.Build(profile, 1);

        Assert.Equal(
            [("inlined", 4L, 4L), ("caller", 0L, 4L), ("main", 0L, 4L)],
            table.Rows.Select(r => (r.Name, r.Flat, r.Cum)));
    }

    [Fact]
    public void Build_SkipsSamplesWithoutValue_AsGoPprofDoes()
    {
        var profile = ViewProfiles.Cpu(("main;idle", 0), ("main;work", 3));

        var table = TopTableBuilder.Build(profile, 1);

        Assert.Equal(["work", "main"], table.Rows.Select(r => r.Name));
    }

    [Theory]
    [InlineData(FrameNaming.ByAddress, "0x4a3f (app)")]
    [InlineData(FrameNaming.ByBinary, "[app]")]
    public void Build_NamesUnsymbolizedFrames_ByTheChosenNaming(FrameNaming naming, string expected)
    {
        var profile = ViewProfiles.Cpu(("main", 1));
        var location = Assert.Single(profile.Locations);
        location.Lines = [];
        location.Address = 0x4a3f;
        location.Mapping = new Mapping { Id = 1, File = "/usr/bin/app" };
        profile.Mappings.Add(location.Mapping);

        var table = TopTableBuilder.Build(profile, 1, naming);

        Assert.Equal(expected, Assert.Single(table.Rows).Name);
    }

    [Fact]
    public void BuildDiff_ReportsBothSides()
    {
        var baseProfile = ViewProfiles.Cpu(("main;a", 10), ("main;b", 30));
        var newProfile = ViewProfiles.Cpu(("main;a", 40));

        var table = TopTableBuilder.BuildDiff(baseProfile, 1, newProfile, 1);

        Assert.Equal(40, table.Total);
        Assert.Equal(40, table.BaseTotal);
        var a = table.Rows.Single(r => r.Name == "a");
        Assert.Equal((40L, 10L, 30L), (a.Flat, a.BaseFlat, a.FlatChange));
        var b = table.Rows.Single(r => r.Name == "b");
        Assert.Equal((0L, 30L, 30L, -30L), (b.Flat, b.BaseFlat, b.BaseCum, b.FlatChange));
    }

    [Fact]
    public void BuildDiff_SortsByAbsoluteChange_AsGoPprofDiffBase()
    {
        var baseProfile = ViewProfiles.Cpu(("main;grew", 10), ("main;shrank", 50), ("main;same", 100));
        var newProfile = ViewProfiles.Cpu(("main;grew", 30), ("main;shrank", 10), ("main;same", 100));

        var table = TopTableBuilder.BuildDiff(baseProfile, 1, newProfile, 1);

        Assert.Equal(["shrank", "grew", "main", "same"], table.Rows.Select(r => r.Name));
    }

    public static TheoryData<string> Sets() => [.. GoldenSet.Names()];

    /// <summary>
    /// Our table of our merge agrees with what go tool pprof -top printed for its merge; for the diff set, our
    /// diff table (flat and cum the changes, the base's total) with what it printed for -diff_base.
    /// </summary>
    [Theory]
    [MemberData(nameof(Sets))]
    public void Build_MatchesGoTop_ForGoldenSet(string name)
    {
        var set = GoldenSet.Load(name);
        var printed = GoTop.Parse(set.TopText());
        TopTable table;
        string type;
        if (set.Base is null)
        {
            var profile = set.Actual();
            var index = SampleTypeIndex.Resolve(profile, null);
            type = profile.SampleTypes[index].Type;
            table = TopTableBuilder.Build(profile, index, FrameNaming.ByBinary);
        }
        else
        {
            var target = set.TargetProfile();
            var baseProfile = set.BaseProfile();
            var index = SampleTypeIndex.Resolve(target, null);
            type = target.SampleTypes[index].Type;
            table = TopTableBuilder.BuildDiff(baseProfile, SampleTypeIndex.Resolve(baseProfile, type), target, index, FrameNaming.ByBinary);
        }

        var total = table.BaseTotal ?? table.Total;
        Assert.Equal(printed.Type, type);
        Assert.True(printed.Total.Matches(total), $"total: go printed {printed.Total.Text}, we have {total}");
        var ours = table.Rows.ToDictionary(e => e.Name, StringComparer.Ordinal);
        Assert.NotEmpty(printed.Rows);
        foreach (var row in printed.Rows)
        {
            Assert.True(ours.TryGetValue(row.Name, out var entry), $"go lists {row.Name}, we do not");
            Assert.True(row.Flat.Matches(entry.FlatChange), $"{row.Name} flat: go printed {row.Flat.Text}, we have {entry.FlatChange}");
            Assert.True(row.Cum.Matches(entry.CumChange), $"{row.Name} cum: go printed {row.Cum.Text}, we have {entry.CumChange}");
        }

        // The order go printed is ours too, among the functions it printed.
        var printedNames = printed.Rows.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(
            printed.Rows.Select(r => r.Name),
            table.Rows.Where(e => printedNames.Contains(e.Name)).Select(e => e.Name));
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
