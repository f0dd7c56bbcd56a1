using Profefe.Cli.Commands;
using Profefe.Client;
using Profefe.Core.Views;
using Profefe.Pprof;

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
    public void Format_PrintsTheTopTable_AsGoPprofTop()
    {
        // main -> work -> hash (6s), main -> work (3s), main -> log (1s), over a 20 s profile.
        var profile = new Profile { TimeNanos = 1_577_934_245_000_000_000, DurationNanos = 20_000_000_000 };
        profile.SampleTypes.Add(new SampleType("samples", "count"));
        profile.SampleTypes.Add(new SampleType("cpu", "nanoseconds"));
        var locations = new Dictionary<string, Location>(StringComparer.Ordinal);
        Location LocationOf(string name)
        {
            if (!locations.TryGetValue(name, out var location))
            {
                var function = new Function { Id = (ulong)locations.Count + 1, Name = name };
                location = new Location { Id = function.Id, Lines = [new Line(function, 1)] };
                profile.Functions.Add(function);
                profile.Locations.Add(location);
                locations.Add(name, location);
            }

            return location;
        }

        profile.Samples.Add(new Sample { Locations = [LocationOf("hash"), LocationOf("work"), LocationOf("main")], Values = [6, 6_000_000_000] });
        profile.Samples.Add(new Sample { Locations = [LocationOf("work"), LocationOf("main")], Values = [3, 3_000_000_000] });
        profile.Samples.Add(new Sample { Locations = [LocationOf("log"), LocationOf("main")], Values = [1, 1_000_000_000] });
        var index = SampleTypeIndex.Resolve(profile, null);

        var text = TopCommand.Format(profile, profile.SampleTypes[index], TopTableBuilder.Build(profile, index, FrameNaming.ByBinary), 3);

        Assert.Equal(
            "Type: cpu\n" +
            "Time: Jan 2, 2020 at 3:04am (UTC)\n" +
            "Duration: 20s, Total samples = 10s (50.00%)\n" +
            "Showing nodes accounting for 10s, 100.00% of 10s total\n" +
            "Showing top 3 nodes out of 4\n" +
            "      flat  flat%   sum%        cum   cum%\n" +
            "        6s 60.00% 60.00%         6s 60.00%  hash\n" +
            "        3s 30.00% 90.00%         9s 90.00%  work\n" +
            "        1s 10.00% 100.00%         1s 10.00%  log\n",
            text);
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
