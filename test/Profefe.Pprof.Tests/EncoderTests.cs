using Profefe.Testing;

namespace Profefe.Pprof.Tests;

public sealed class EncoderTests
{
    [Fact]
    public void Encode_WritesGzip_ByDefault()
    {
        var bytes = ProfileEncoder.EncodeToArray(ProfileDecoder.Decode(TestData.Read("go/mutex_01.pb.gz")));

        Assert.Equal([0x1f, 0x8b], bytes[..2]);
    }

    [Fact]
    public void Encode_KeepsModelIds_WhenTheyAreValid()
    {
        var profile = ProfileDecoder.Decode(TestData.Read("go/heap_01.pb.gz"));
        profile.Functions[0].Id = 1000;

        var decoded = ProfileDecoder.Decode(ProfileEncoder.EncodeToArray(profile));

        Assert.Equal(1000UL, decoded.Functions[0].Id);
        Assert.Equal(ProfileText.Render(profile), ProfileText.Render(decoded));
    }

    [Fact]
    public void Encode_WritesIdsByPosition_WhenModelIdsAreZeroOrRepeated()
    {
        var profile = ProfileDecoder.Decode(TestData.Read("go/cpu_hash_01.pb.gz"));
        var expected = ProfileText.Render(profile);
        profile.Functions.ForEach(f => f.Id = 0);
        profile.Locations.ForEach(l => l.Id = 3);
        profile.Mappings.ForEach(m => m.Id = 0);

        var decoded = ProfileDecoder.Decode(ProfileEncoder.EncodeToArray(profile), null, out var renumbered);

        Assert.False(renumbered);
        Assert.Equal(expected, ProfileText.Render(decoded));
    }

    [Fact]
    public void Encode_WritesEveryScalarField_OfHandBuiltProfile()
    {
        var function = new Function { Id = 1, Name = "main", SystemName = "main_sys", Filename = "main.go", StartLine = 3 };
        var mapping = new Mapping { Id = 1, Start = 0x1000, Limit = 0x2000, Offset = 0x10, File = "/bin/app", BuildId = "abc", HasFunctions = true, HasInlineFrames = true };
        var location = new Location { Id = 1, Mapping = mapping, Address = 0x1234, Lines = [new Line(function, 7, 2)], IsFolded = true };
        var profile = new Profile
        {
            DefaultSampleType = "cpu",
            DropFrames = "drop.*",
            KeepFrames = "keep.*",
            TimeNanos = 1_700_000_000_000_000_000,
            DurationNanos = 10_000_000_000,
            PeriodType = new SampleType("cpu", "nanoseconds"),
            Period = 10_000_000,
            DocUrl = "https://example.com/doc",
        };
        profile.SampleTypes.AddRange([new SampleType("samples", "count"), new SampleType("cpu", "nanoseconds")]);
        profile.Comments.AddRange(["first", "second"]);
        profile.Functions.Add(function);
        profile.Mappings.Add(mapping);
        profile.Locations.Add(location);
        profile.Samples.Add(new Sample
        {
            Locations = [location, location, location],
            Values = [1, -10_000_000],
            Labels = new() { ["thread"] = ["a", "b"], ["span"] = ["x"] },
            NumLabels = new() { ["bytes"] = [1, 2], ["count"] = [5] },
            NumUnits = new() { ["bytes"] = ["B", "kB"] },
        });

        var decoded = ProfileDecoder.Decode(ProfileEncoder.EncodeToArray(profile));

        Assert.Equal(ProfileText.Render(profile), ProfileText.Render(decoded));
        Assert.Equal("https://example.com/doc", decoded.DocUrl);
        Assert.True(decoded.Locations[0].IsFolded);
        Assert.Equal(2, decoded.Locations[0].Lines[0].Column);
    }
}
