using Profefe.Cli.Arguments;

namespace Profefe.Cli.Tests.Arguments;

public sealed class TimeArgumentTests
{
    private static readonly DateTimeOffset Now = new(2024, 3, 10, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("2019-05-30T21:10:05", "2019-05-30T21:10:05+00:00")]
    [InlineData("2019-05-30T21:10:05Z", "2019-05-30T21:10:05+00:00")]
    [InlineData("2019-05-30T23:10:05+02:00", "2019-05-30T21:10:05+00:00")]
    [InlineData("2019-05-30T21:10:05.5Z", "2019-05-30T21:10:05.5000000+00:00")]
    [InlineData("2019-05-30", "2019-05-30T00:00:00+00:00")]
    [InlineData("now", "2024-03-10T12:00:00+00:00")]
    [InlineData("-1h", "2024-03-10T11:00:00+00:00")]
    [InlineData("-30m", "2024-03-10T11:30:00+00:00")]
    [InlineData("-7d", "2024-03-03T12:00:00+00:00")]
    [InlineData("-1h30m", "2024-03-10T10:30:00+00:00")]
    [InlineData("+15m", "2024-03-10T12:15:00+00:00")]
    public void Parse_ReadsTime_WhenFormIsSupported(string text, string expected)
    {
        var parsed = TimeArgument.Parse(text, Now);

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("-1x")]
    [InlineData("2019-13-30T21:10:05")]
    [InlineData("30/05/2019")]
    [InlineData("-")]
    public void Parse_ThrowsReadableError_WhenFormIsUnknown(string text)
    {
        var e = Assert.Throws<FormatException>(() => TimeArgument.Parse(text, Now));

        Assert.StartsWith($"invalid time \"{text}\"", e.Message, StringComparison.Ordinal);
    }
}
