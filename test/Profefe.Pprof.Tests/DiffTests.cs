namespace Profefe.Pprof.Tests;

public sealed class DiffTests
{
    [Fact]
    public void Compute_NegatesAndLabelsBase_KeepingItApartFromTarget()
    {
        var baseProfile = new TestProfileBuilder().Sample("leaf;main", 2, 20).Sample("old;main", 1, 10).Build();
        var target = new TestProfileBuilder().Sample("leaf;main", 5, 50).Sample("new;main", 3, 30).Build();

        var diff = ProfileDiff.Compute(baseProfile, target);

        Assert.Equal(4, diff.Samples.Count);
        var baseSamples = diff.Samples.Where(ProfileDiff.IsBaseSample).ToList();
        Assert.Equal(2, baseSamples.Count);
        Assert.All(baseSamples, s => Assert.Equal(["true"], s.Labels![ProfileDiff.BaseLabel]));
        Assert.Equal([5L, 50], diff.Samples[0].Values);
        Assert.Equal([-2L, -20], baseSamples[0].Values);
        Assert.Equal([5L - 2 + 3 - 1, 50 - 20 + 30 - 10], StackValues.Totals(diff));
    }

    [Fact]
    public void Compute_DoesNotChangeInputs()
    {
        var baseProfile = new TestProfileBuilder().Sample("leaf;main", 2, 20).Build();
        var target = new TestProfileBuilder().Sample("leaf;main", 5, 50).Build();

        _ = ProfileDiff.Compute(baseProfile, target);

        Assert.Equal([2L, 20], baseProfile.Samples[0].Values);
        Assert.Null(baseProfile.Samples[0].Labels);
        Assert.Equal([5L, 50], target.Samples[0].Values);
    }

    [Fact]
    public void Compute_KeepsBaseLabels_AddingTheBaseTag()
    {
        var baseProfile = new TestProfileBuilder()
            .Sample("main", new Dictionary<string, string[]> { ["span"] = ["7"] }, 1, 1)
            .Build();
        var target = new TestProfileBuilder().Sample("main", 1, 1).Build();

        var diff = ProfileDiff.Compute(baseProfile, target);

        var tagged = Assert.Single(diff.Samples, ProfileDiff.IsBaseSample);
        Assert.Equal(["7"], tagged.Labels!["span"]);
    }

    [Fact]
    public void Compute_Throws_WhenProfilesAreIncompatible()
    {
        var cpu = new TestProfileBuilder().Sample("main", 1, 1).Build();
        var other = new TestProfileBuilder(0x400000, new SampleType("contentions", "count"), new SampleType("delay", "nanoseconds"))
            .Sample("main", 1, 1).Build();

        var error = Assert.Throws<ProfileFormatException>(() => ProfileDiff.Compute(cpu, other));

        Assert.StartsWith("incompatible sample types [contentions/count delay/nanoseconds] and [samples/count cpu/nanoseconds]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_OfProfileWithItself_KeepsBothSidesApart()
    {
        var profile = new TestProfileBuilder().Sample("leaf;main", 2, 20).Build();

        var diff = ProfileDiff.Compute(profile, profile);

        Assert.Equal(2, diff.Samples.Count);
        Assert.Equal([0L, 0], StackValues.Totals(diff));
        Assert.Equal(2, StackValues.Of(diff).Count);
    }
}
