namespace Profefe.Pprof.Tests;

public sealed class MergeTests
{
    [Fact]
    public void Merge_SumsSamples_WhenStacksAreEqual()
    {
        var a = new TestProfileBuilder().Sample("leaf;main", 1, 10).Sample("other;main", 2, 20).Build();
        var b = new TestProfileBuilder().Sample("leaf;main", 3, 30).Build();

        var merged = ProfileMerger.Merge([a, b]);

        Assert.Equal(2, merged.Samples.Count);
        Assert.Equal([4L, 40], merged.Samples[0].Values);
        Assert.Equal([2L, 20], merged.Samples[1].Values);
    }

    [Fact]
    public void Merge_DeduplicatesLocationsFunctionsAndMappings_WhenContentIsEqual()
    {
        var a = new TestProfileBuilder().Sample("leaf;main", 1, 10).Build();
        var b = new TestProfileBuilder().Sample("main", 1, 10).Sample("leaf;main", 1, 10).Build();

        var merged = ProfileMerger.Merge([a, b]);

        Assert.Equal(2, merged.Locations.Count);
        Assert.Equal(2, merged.Functions.Count);
        Assert.Single(merged.Mappings);
        Assert.Equal(2, merged.Samples.Count);
    }

    [Fact]
    public void Merge_NumbersIdsFromOne_InEveryTable()
    {
        var a = new TestProfileBuilder().Sample("c;b;a", 1, 1).Build();
        var b = new TestProfileBuilder().Sample("d;b;a", 1, 1).Sample("e", 1, 1).Build();

        var merged = ProfileMerger.Merge([a, b]);

        for (var i = 0; i < merged.Locations.Count; i++)
        {
            Assert.Equal((ulong)i + 1, merged.Locations[i].Id);
        }

        for (var i = 0; i < merged.Functions.Count; i++)
        {
            Assert.Equal((ulong)i + 1, merged.Functions[i].Id);
        }

        Assert.Equal(1UL, merged.Mappings[0].Id);
        Assert.Equal(5, merged.Functions.Count);
        Assert.All(merged.Samples, s => Assert.All(s.Locations, l => Assert.Same(l, merged.Locations[(int)l.Id - 1])));
    }

    [Fact]
    public void Merge_KeepsSamplesApart_WhenLabelsDiffer()
    {
        var a = new TestProfileBuilder()
            .Sample("leaf;main", new Dictionary<string, string[]> { ["span"] = ["1"] }, 1, 10)
            .Sample("leaf;main", new Dictionary<string, string[]> { ["span"] = ["2"] }, 1, 10)
            .Build();
        var b = new TestProfileBuilder()
            .Sample("leaf;main", new Dictionary<string, string[]> { ["span"] = ["1"] }, 1, 10)
            .Sample("leaf;main", 5, 50)
            .Build();

        var merged = ProfileMerger.Merge([a, b]);

        Assert.Equal(3, merged.Samples.Count);
        Assert.Equal([2L, 20], merged.Samples.Single(s => s.Labels?["span"][0] == "1").Values);
        Assert.Equal([5L, 50], merged.Samples.Single(s => s.Labels is null).Values);
    }

    [Fact]
    public void Merge_SumsSamples_WhenNumericLabelsAndUnitsAreEqual()
    {
        Profile Build(string unit)
        {
            var builder = new TestProfileBuilder().Sample("leaf", 1, 1);
            builder.Profile.Samples[0].NumLabels = new() { ["bytes"] = [64] };
            builder.Profile.Samples[0].NumUnits = new() { ["bytes"] = [unit] };
            return builder.Build();
        }

        var merged = ProfileMerger.Merge([Build("bytes"), Build("bytes"), Build("kilobytes")]);

        Assert.Equal(2, merged.Samples.Count);
        Assert.Equal([2L, 2], merged.Samples[0].Values);
        Assert.Equal(64, merged.Samples[0].NumLabels!["bytes"][0]);
    }

    [Fact]
    public void Merge_CombinesHeaders_LikeGo()
    {
        var a = new TestProfileBuilder().Sample("main", 1, 1).Build();
        a.TimeNanos = 2_000;
        a.DurationNanos = 10;
        a.Period = 100;
        a.Comments.AddRange(["first", "shared"]);
        a.DropFrames = "drop.*";
        var b = new TestProfileBuilder().Sample("main", 1, 1).Build();
        b.TimeNanos = 1_000;
        b.DurationNanos = 15;
        b.Period = 300;
        b.Comments.AddRange(["shared", "second"]);
        b.DefaultSampleType = "cpu";
        b.DropFrames = "ignored";

        var merged = ProfileMerger.Merge([a, b]);

        Assert.Equal(1_000, merged.TimeNanos);
        Assert.Equal(25, merged.DurationNanos);
        Assert.Equal(300, merged.Period);
        Assert.Equal(["first", "shared", "second"], merged.Comments);
        Assert.Equal("cpu", merged.DefaultSampleType);
        Assert.Equal("drop.*", merged.DropFrames);
        Assert.Equal(new SampleType("cpu", "nanoseconds"), merged.PeriodType);
        Assert.Equal(a.SampleTypes, merged.SampleTypes);
    }

    [Fact]
    public void Merge_Throws_WhenSampleTypesDiffer()
    {
        var cpu = new TestProfileBuilder().Sample("main", 1, 1).Build();
        var heap = new TestProfileBuilder(0x400000, new SampleType("alloc_objects", "count"), new SampleType("alloc_space", "bytes"))
            .Sample("main", 1, 1).Build();
        var merger = new ProfileMerger();
        merger.Add(cpu);

        var error = Assert.Throws<ProfileFormatException>(() => merger.Add(heap));

        Assert.Equal(
            "incompatible sample types [samples/count cpu/nanoseconds] and [alloc_objects/count alloc_space/bytes]",
            error.Message);
        Assert.Equal([1L, 1], merger.ToProfile().Samples.Single().Values);
    }

    [Fact]
    public void Merge_Throws_WhenSampleTypeCountDiffers()
    {
        var two = new TestProfileBuilder().Sample("main", 1, 1).Build();
        var one = new TestProfileBuilder(0x400000, new SampleType("samples", "count")).Sample("main", 1).Build();

        var error = Assert.Throws<ProfileFormatException>(() => ProfileMerger.Merge([two, one]));

        Assert.Equal("incompatible sample types [samples/count cpu/nanoseconds] and [samples/count]", error.Message);
    }

    [Fact]
    public void Merge_Throws_WhenPeriodTypesDiffer()
    {
        var a = new TestProfileBuilder().Sample("main", 1, 1).Build();
        var b = new TestProfileBuilder().Sample("main", 1, 1).Build();
        b.PeriodType = new SampleType("space", "bytes");

        var error = Assert.Throws<ProfileFormatException>(() => ProfileMerger.Merge([a, b]));

        Assert.Equal("incompatible period types cpu/nanoseconds and space/bytes", error.Message);
    }

    [Fact]
    public void Merge_Throws_WhenValueCountDoesNotMatchSampleTypes()
    {
        var bad = new TestProfileBuilder().Sample("main", 1, 2, 3).Build();

        var error = Assert.Throws<ProfileFormatException>(() => ProfileMerger.Merge([bad]));

        Assert.Equal("mismatch: sample has 3 values vs. 2 types", error.Message);
    }

    [Fact]
    public void ToProfile_Throws_WhenNothingWasAdded()
    {
        Assert.Throws<InvalidOperationException>(() => new ProfileMerger().ToProfile());
    }

    [Fact]
    public void Merge_LeavesOutSamples_WhenAllValuesAreZero()
    {
        var a = new TestProfileBuilder().Sample("zero;main", 0, 0).Sample("main", 1, 1).Build();

        var merged = ProfileMerger.Merge([a]);

        Assert.Single(merged.Samples);
        Assert.DoesNotContain(merged.Functions, f => f.Name == "zero");
    }

    [Fact]
    public void Merge_DropsSamplesAndTheirLocations_WhenValuesCancelOut()
    {
        var a = new TestProfileBuilder().Sample("gone;main", 5, 5).Sample("main", 1, 1).Build();
        var b = new TestProfileBuilder().Sample("gone;main", -5, -5).Build();

        var merged = ProfileMerger.Merge([a, b]);

        var sample = Assert.Single(merged.Samples);
        Assert.Equal([1L, 1], sample.Values);
        Assert.Single(merged.Locations);
        Assert.Equal("main", Assert.Single(merged.Functions).Name);
        Assert.Equal(1UL, merged.Locations[0].Id);
    }

    [Fact]
    public void Merge_ShiftsAddresses_WhenTheSameBinaryIsMappedElsewhere()
    {
        var a = new TestProfileBuilder(0x400000).Sample("leaf;main", 1, 1).Build();
        var b = new TestProfileBuilder(0x7f0000000000).Sample("leaf;main", 1, 1).Build();

        var merged = ProfileMerger.Merge([a, b]);

        Assert.Single(merged.Mappings);
        Assert.Equal(2, merged.Locations.Count);
        Assert.Equal([2L, 2], Assert.Single(merged.Samples).Values);
        Assert.Equal(a.Locations[0].Address, merged.Locations[0].Address);
    }

    [Fact]
    public void Merge_KeepsMappingsApart_WhenBuildIdsDiffer()
    {
        var a = new TestProfileBuilder().Sample("main", 1, 1).Build();
        a.Mappings[0].BuildId = "aaaa";
        var b = new TestProfileBuilder().Sample("main", 1, 1).Build();
        b.Mappings[0].BuildId = "bbbb";

        var merged = ProfileMerger.Merge([a, b]);

        Assert.Equal(2, merged.Mappings.Count);
        Assert.Equal(2, merged.Samples.Count);
        Assert.Single(merged.Functions);
    }

    [Fact]
    public void Merge_UsesObjects_WhenIdsAreNotTheirPositions()
    {
        // Hand-built profiles may number objects freely (or not at all); merging must not depend on it.
        var a = new TestProfileBuilder().Sample("leaf;main", 1, 1).Sample("other;main", 1, 1).Build();
        foreach (var location in a.Locations)
        {
            location.Id = 0;
        }

        foreach (var function in a.Functions)
        {
            function.Id += 100;
        }

        a.Locations.Reverse();
        var b = new TestProfileBuilder().Sample("leaf;main", 1, 1).Build();

        var merged = ProfileMerger.Merge([a, b]);

        Assert.Equal(3, merged.Locations.Count);
        Assert.Equal(3, merged.Functions.Count);
        Assert.Equal([2L, 2], merged.Samples[0].Values);
        Assert.Equal([1L, 1], merged.Samples[1].Values);
    }

    [Fact]
    public void Merge_KeepsLocationsApart_WhenInlinedLinesDiffer()
    {
        var a = new TestProfileBuilder();
        a.Sample("main", 1, 1);
        var b = new TestProfileBuilder();
        b.Sample("main", 1, 1);
        var inlined = b.FunctionOf("inlined");
        b.Profile.Locations[0].Lines = [new Line(inlined, 3), .. b.Profile.Locations[0].Lines];

        var merged = ProfileMerger.Merge([a.Build(), b.Build()]);

        Assert.Equal(2, merged.Locations.Count);
        Assert.Equal(2, merged.Samples.Count);
    }

    [Fact]
    public void ToProfile_ReturnsSnapshot_WhenMoreProfilesAreAddedLater()
    {
        var merger = new ProfileMerger();
        merger.Add(new TestProfileBuilder().Sample("main", 1, 1).Build());
        var first = merger.ToProfile();

        merger.Add(new TestProfileBuilder().Sample("main", 1, 1).Build());

        Assert.Equal([1L, 1], first.Samples[0].Values);
        Assert.Equal([2L, 2], merger.ToProfile().Samples[0].Values);
        Assert.Equal(2, merger.Count);
    }

    [Fact]
    public void Merge_DoesNotChangeInputs()
    {
        var a = new TestProfileBuilder().Sample("leaf;main", 1, 10).Build();
        var b = new TestProfileBuilder(0x800000).Sample("leaf;main", 3, 30).Build();
        var addressBefore = b.Locations[0].Address;

        _ = ProfileMerger.Merge([a, b]);

        Assert.Equal([1L, 10], a.Samples[0].Values);
        Assert.Equal([3L, 30], b.Samples[0].Values);
        Assert.Equal(addressBefore, b.Locations[0].Address);
    }
}
