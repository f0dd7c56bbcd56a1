namespace Profefe.Pprof.Tests;

public sealed class ProfileModelTests
{
    [Fact]
    public void SampleType_ToString_JoinsTypeAndUnit()
    {
        Assert.Equal("cpu/nanoseconds", new SampleType("cpu", "nanoseconds").ToString());
    }
}
