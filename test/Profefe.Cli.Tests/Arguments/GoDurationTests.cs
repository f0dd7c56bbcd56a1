using Profefe.Cli.Arguments;

namespace Profefe.Cli.Tests.Arguments;

public sealed class GoDurationTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("90s", 90_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("2d", 172_800_000)]
    [InlineData("1w", 604_800_000)]
    [InlineData("-1h", -3_600_000)]
    public void TryParse_ReadsGoDurations(string text, long milliseconds)
    {
        Assert.True(GoDuration.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("s")]
    [InlineData("1y")]
    [InlineData("1h-5m")]
    public void TryParse_Rejects_WhenNotADuration(string text)
    {
        Assert.False(GoDuration.TryParse(text, out _));
    }
}
