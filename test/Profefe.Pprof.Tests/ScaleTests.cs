namespace Profefe.Pprof.Tests;

public sealed class ScaleTests
{
    [Fact]
    public void Scale_RoundsHalfAwayFromZero()
    {
        var profile = new TestProfileBuilder().Sample("a", 1, 3).Sample("b", -1, -3).Build();

        profile.Scale(0.5);

        Assert.Equal([1L, 2], profile.Samples[0].Values);
        Assert.Equal([-1L, -2], profile.Samples[1].Values);
    }

    [Fact]
    public void Scale_DropsSamples_ThatBecomeZero()
    {
        var profile = new TestProfileBuilder().Sample("a", 1, 1).Sample("b", 10, 10).Build();

        profile.Scale(0.1);

        Assert.Equal([1L, 1], Assert.Single(profile.Samples).Values);
    }

    [Fact]
    public void Scale_ChangesNothing_WhenRatioIsOne()
    {
        var profile = new TestProfileBuilder().Sample("a", 0, 0).Build();

        profile.Scale(1);

        Assert.Single(profile.Samples);
    }

    [Fact]
    public void ScaleN_KeepsSample_OnlyWhenAScaledValueIsNonZero()
    {
        // Go's rule: values left alone (ratio 1) do not keep a sample.
        var profile = new TestProfileBuilder().Sample("a", 5, 1000).Sample("b", 5, 100).Build();

        profile.ScaleN([1, 0.001]);

        Assert.Equal([5L, 1], Assert.Single(profile.Samples).Values);
    }

    [Fact]
    public void ScaleN_Throws_WhenRatioCountDiffers()
    {
        var profile = new TestProfileBuilder().Sample("a", 1, 1).Build();

        var error = Assert.Throws<ArgumentException>(() => profile.ScaleN([2.0]));

        Assert.StartsWith("mismatched scale ratios, got 1, want 2", error.Message, StringComparison.Ordinal);
    }
}
