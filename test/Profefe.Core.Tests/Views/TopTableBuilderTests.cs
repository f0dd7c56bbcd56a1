using Profefe.Core.Views;

namespace Profefe.Core.Tests.Views;

public sealed class TopTableBuilderTests
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
    public void BuildDiff_ReportsBothSides()
    {
        var baseProfile = ViewProfiles.Cpu(("main;a", 10), ("main;b", 30));
        var newProfile = ViewProfiles.Cpu(("main;a", 40));

        var table = TopTableBuilder.BuildDiff(baseProfile, 1, newProfile, 1);

        Assert.Equal(40, table.Total);
        Assert.Equal(40, table.BaseTotal);
        var a = table.Rows.Single(r => r.Name == "a");
        Assert.Equal((40L, 10L), (a.Flat, a.BaseFlat));
        var b = table.Rows.Single(r => r.Name == "b");
        Assert.Equal((0L, 30L, 30L), (b.Flat, b.BaseFlat, b.BaseCum));
    }
}
