using Profefe.Cli.Commands;
using Profefe.Client;

namespace Profefe.Cli.Tests.Commands;

public sealed class TopFormatTests
{
    [Theory]
    [InlineData(1_470_000_000, "nanoseconds", "1.47s")]
    [InlineData(2_000_000_000, "nanoseconds", "2s")]
    [InlineData(10_000_000, "nanoseconds", "10ms")]
    [InlineData(0, "nanoseconds", "0ns")]
    [InlineData(27_273_216, "bytes", "26.01MB")]
    [InlineData(11_534_336, "bytes", "11MB")]
    [InlineData(512, "bytes", "512B")]
    [InlineData(1234, "count", "1234")]
    public void FormatValue_ScalesLikePprof(long value, string unit, string expected)
    {
        Assert.Equal(expected, TopCommand.FormatValue(value, unit));
    }

    [Fact]
    public void FormatTable_AlignsColumns()
    {
        var table = FindCommand.FormatTable(
        [
            new ProfileInfo("dc38nn38di192ieigdtg", "cpu", "svc1", [new ProfileLabel("dc", "fra"), new ProfileLabel("region", "eu")], new DateTimeOffset(2019, 5, 30, 21, 10, 5, TimeSpan.Zero)),
            new ProfileInfo("dc38nn38di192ieigdvg", "heap", "svc1", null, new DateTimeOffset(2019, 5, 30, 21, 18, 31, TimeSpan.Zero)),
        ]);

        Assert.Equal(
            "ID                    TYPE  CREATED_AT            LABELS\n" +
            "dc38nn38di192ieigdtg  cpu   2019-05-30T21:10:05Z  dc=fra,region=eu\n" +
            "dc38nn38di192ieigdvg  heap  2019-05-30T21:18:31Z\n",
            table);
    }
}
