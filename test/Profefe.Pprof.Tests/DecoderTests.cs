using System.IO.Compression;
using System.Text;
using Profefe.Testing;
using Profefe.Testing.Profiles;

namespace Profefe.Pprof.Tests;

public sealed class DecoderTests
{
    public static TheoryData<string> AcceptedProtoFiles() => CorpusManifest.AcceptedProtoFiles();

    [Theory]
    [MemberData(nameof(AcceptedProtoFiles))]
    public void Decode_MatchesManifest_ForAcceptedProtoFile(string file)
    {
        var entry = CorpusManifest.Get(file);

        var profile = ProfileDecoder.Decode(TestData.Read(file), null, out var renumbered);

        Assert.Equal(entry.Samples, profile.Samples.Count);
        Assert.Equal(entry.Locations, profile.Locations.Count);
        Assert.Equal(entry.SampleTypes, string.Join(",", profile.SampleTypes));
        Assert.Equal(entry.PeriodType, (profile.PeriodType ?? new SampleType("", "")).ToString());
        Assert.False(renumbered);
        Assert.Null(ProfileValidator.FindProblem(profile));
    }

    [Theory]
    [InlineData("profefe/collector_cpu_1.prof")]
    [InlineData("profefe/collector_cpu_2.prof")]
    [InlineData("profefe/collector_cpu_3.prof")]
    [InlineData("profefe/collector_heap_1.prof")]
    [InlineData("profefe/collector_heap_2.prof")]
    public void Decode_ReturnsSamples_ForProfefeCollectorFile(string file)
    {
        var profile = ProfileDecoder.Decode(TestData.Read(file));

        Assert.NotEmpty(profile.Samples);
        Assert.All(profile.Samples, s => Assert.Equal(profile.SampleTypes.Count, s.Values.Length));
    }

    [Fact]
    public void Decode_SharesStrings_WhenDecodedWithOnePool()
    {
        var options = new ProfileDecoderOptions { StringPool = new ProfileStringPool() };
        var data = TestData.Read("go/cpu_mix_01.pb.gz");

        var first = ProfileDecoder.Decode(data, options);
        var second = ProfileDecoder.Decode(data, options);

        Assert.Same(first.Functions[0].Name, second.Functions[0].Name);
        Assert.Same(first.Functions[0].Filename, second.Functions[0].Filename);
        Assert.Equal(ProfileText.Render(ProfileDecoder.Decode(data)), ProfileText.Render(second));
    }

    [Fact]
    public void Decode_StopsPooling_AtMaxCount()
    {
        var pool = new ProfileStringPool(maxCount: 10);

        ProfileDecoder.Decode(TestData.Read("go/cpu_mix_01.pb.gz"), new ProfileDecoderOptions { StringPool = pool });

        Assert.Equal(10, pool.Count);
    }

    [Theory]
    [InlineData("go/heap_01.pb.gz", false)]
    [InlineData("pprof-thirdparty/google-pprof/profile__testdata__cppbench.heap", true)]
    public void Decode_ReportsLegacyFormat_OnlyForLegacyInput(string file, bool legacy)
    {
        ProfileDecoder.Decode(TestData.Read(file), null, out var renumbered, out var fromLegacyFormat);

        Assert.Equal(legacy, fromLegacyFormat);
        Assert.False(renumbered);
    }

    [Fact]
    public void Decode_ThrowsNoSamples_ForProfefeNoSamplesFile()
    {
        var e = Assert.Throws<ProfileFormatException>(() => ProfileDecoder.Decode(TestData.Read("profefe/collector_cpu_no-samples.prof")));

        Assert.Equal("profile is empty: no samples", e.Message);
    }

    [Fact]
    public void Decode_ReturnsEmptyProfile_WhenSamplesNotRequired()
    {
        var profile = ProfileDecoder.Decode(
            TestData.Read("profefe/collector_cpu_no-samples.prof"),
            new ProfileDecoderOptions { RequireSamples = false });

        Assert.Empty(profile.Samples);
        Assert.Equal("samples/count,cpu/nanoseconds", string.Join(",", profile.SampleTypes));
    }

    [Theory]
    [InlineData("profefe/collector_trace_1.out")]
    [InlineData("go/trace_01.out")]
    public void Decode_ThrowsUnrecognized_ForRuntimeTrace(string file)
    {
        var e = Assert.Throws<ProfileFormatException>(() => ProfileDecoder.Decode(TestData.Read(file)));

        Assert.Equal("parsing profile: unrecognized profile format", e.Message);
    }

    [Fact]
    public void Decode_ThrowsUnrecognized_ForText()
    {
        var e = Assert.Throws<ProfileFormatException>(() => ProfileDecoder.Decode("this is not a pprof profile"u8));

        Assert.Equal("parsing profile: unrecognized profile format", e.Message);
    }

    [Fact]
    public void Decode_ThrowsEmptyInput_ForNoBytes()
    {
        var e = Assert.Throws<ProfileFormatException>(() => ProfileDecoder.Decode([]));

        Assert.Equal("parsing profile: empty input file", e.Message);
    }

    [Fact]
    public void Decode_ThrowsEmptyInput_ForGzipOfNothing()
    {
        var e = Assert.Throws<ProfileFormatException>(() => ProfileDecoder.Decode(Gzip([])));

        Assert.Equal("parsing profile: empty input file", e.Message);
    }

    [Theory]
    [InlineData(5000)]
    [InlineData(100)]
    [InlineData(11)]
    [InlineData(2)]
    [InlineData(-1)]
    [InlineData(-4)]
    [InlineData(-8)]
    public void Decode_ThrowsUnexpectedEof_ForTruncatedGzip(int cut)
    {
        var data = TestData.Read("profefe/collector_cpu_1.prof");
        var truncated = data[..(cut > 0 ? cut : data.Length + cut)];

        var e = Assert.Throws<ProfileFormatException>(() => ProfileDecoder.Decode(truncated));

        Assert.Equal("decompressing profile: unexpected EOF", e.Message);
    }

    [Fact]
    public void Decode_ThrowsInvalidChecksum_ForCorruptGzipTrailer()
    {
        var data = TestData.Read("go/cpu_hash_01.pb.gz");
        data[^6] ^= 0x10;

        var e = Assert.Throws<ProfileFormatException>(() => ProfileDecoder.Decode(data));

        Assert.Equal("decompressing profile: gzip: invalid checksum", e.Message);
    }

    [Fact]
    public void Decode_ThrowsInvalidHeader_ForUnknownGzipMethod()
    {
        var data = TestData.Read("go/cpu_hash_01.pb.gz");
        data[2] = 7;

        var e = Assert.Throws<ProfileFormatException>(() => ProfileDecoder.Decode(data));

        Assert.Equal("decompressing profile: gzip: invalid header", e.Message);
    }

    [Fact]
    public void Decode_ReadsConcatenatedGzipMembers_LikeGo()
    {
        var raw = ProfileEncoder.EncodeToArray(ProfileDecoder.Decode(TestData.Read("go/cpu_hash_01.pb.gz")), compress: false);
        var half = raw.Length / 2;

        var profile = ProfileDecoder.Decode([.. Gzip(raw[..half]), .. Gzip(raw[half..])]);

        Assert.Equal(237, profile.Samples.Count);
    }

    [Fact]
    public void Decode_ThrowsLimitExceeded_ForGzipBomb()
    {
        var bomb = Gzip(new byte[4 * 1024 * 1024]);
        Assert.True(bomb.Length < 64 * 1024);

        var e = Assert.Throws<ProfileFormatException>(() =>
            ProfileDecoder.Decode(bomb, new ProfileDecoderOptions { MaxDecompressedBytes = 1024 * 1024 }));

        Assert.Equal("decompressing profile: decompressed size exceeds the limit of 1048576 bytes", e.Message);
    }

    [Fact]
    public void Decode_ThrowsLimitExceeded_WhenLimitIsZero()
    {
        var e = Assert.Throws<ProfileFormatException>(() =>
            ProfileDecoder.Decode(TestData.Read("go/mutex_01.pb.gz"), new ProfileDecoderOptions { MaxDecompressedBytes = 0 }));

        Assert.Equal("decompressing profile: decompressed size exceeds the limit of 0 bytes", e.Message);
    }

    [Fact]
    public void Decode_ReturnsEveryByteToTheInflateBudget_WhenItFitsAndWhenTheLimitIsPassed()
    {
        var budget = new InflateBudget(1024 * 1024);
        var options = new ProfileDecoderOptions { MaxDecompressedBytes = 128 * 1024, InflateBudget = budget };

        var profile = ProfileDecoder.Decode(TestData.Read("go/cpu_hash_01.pb.gz"), options);
        var inflatedAfterDecode = budget.InFlight;
        Assert.Throws<ProfileFormatException>(() => ProfileDecoder.Decode(Gzip(new byte[1024 * 1024]), options));

        Assert.NotEmpty(profile.Samples);
        Assert.Equal(0, inflatedAfterDecode);
        Assert.Equal(0, budget.InFlight);
    }

    [Fact]
    public void Validate_ThrowsInflateBudgetExceeded_WhenOtherUploadsHoldTheBudget()
    {
        var budget = new InflateBudget(64 * 1024);
        Assert.True(budget.TryReserve(62 * 1024));

        var e = Assert.Throws<ProfileFormatException>(() =>
            ProfileDecoder.Validate(TestData.Read("go/cpu_hash_01.pb.gz"), new ProfileDecoderOptions { InflateBudget = budget }));

        Assert.Equal(nameof(ProfileDecoderOptions.InflateBudget), e.ExceededLimit);
        Assert.StartsWith("decompressing profile: the collector is already inflating 63488 bytes of other uploads, and 65536 at once is its limit", e.Message, StringComparison.Ordinal);
        Assert.Equal(62 * 1024, budget.InFlight);
    }

    [Fact]
    public void Validate_GivesTheSampleLayoutThatMergesCompare()
    {
        var validation = ProfileDecoder.Validate(TestData.Read("go/cpu_hash_01.pb.gz"));

        Assert.Equal("[samples/count cpu/nanoseconds] period cpu/nanoseconds", validation.Layout);
    }

    [Fact]
    public void Decode_ThrowsLimitExceeded_ForGzipBombPastDefaultLimit()
    {
        var bomb = Gzip(new byte[(64 * 1024 * 1024) + 1]);

        var e = Assert.Throws<ProfileFormatException>(() => ProfileDecoder.Decode(bomb));

        Assert.Equal("decompressing profile: decompressed size exceeds the limit of 67108864 bytes", e.Message);
    }

    [Fact]
    public void Decode_ThrowsConcatenated_ForTwoProfilesBackToBack()
    {
        var raw = ProfileEncoder.EncodeToArray(ProfileDecoder.Decode(TestData.Read("go/cpu_hash_01.pb.gz")), compress: false);

        var e = Assert.Throws<ProfileFormatException>(() => ProfileDecoder.Decode([.. raw, .. raw]));

        Assert.Equal("parsing profile: concatenated profiles detected", e.Message);
    }

    [Fact]
    public void Decode_ReadsMinimalProfile_WithUnknownFieldsOfEveryWireType()
    {
        using var builder = ProtoBuilder.Minimal();
        builder.UnknownFields();
        builder.Message(4, m => m.Varint(1, 2).UnknownFields(7).Message(4, l => l.UnknownFields(9).Varint(1, 1)));

        var profile = ProfileDecoder.Decode(builder.ToArray());

        Assert.Equal(2, profile.Locations.Count);
        Assert.Equal("main", profile.Samples[0].Locations[0].Lines[0].Function!.Name);
        Assert.Equal("main.go", profile.Functions[0].Filename);
        Assert.Equal([7L], profile.Samples[0].Values);
    }

    [Fact]
    public void Decode_ReadsPackedAndUnpackedRepeatedFieldsAlike()
    {
        byte[] Build(bool packed)
        {
            using var builder = new ProtoBuilder();
            builder.Message(1, m => m.Varint(1, 1).Varint(2, 2)).Message(1, m => m.Varint(1, 2).Varint(2, 2));
            builder.Message(2, m =>
            {
                if (packed)
                {
                    m.Packed(1, 2, 1).Packed(2, 3, ulong.MaxValue);
                }
                else
                {
                    m.Varint(1, 2).Varint(1, 1).Varint(2, 3).Varint(2, ulong.MaxValue);
                }
            });
            builder.Message(4, m => m.Varint(1, 1).Message(4, l => l.Varint(1, 1)));
            builder.Message(4, m => m.Varint(1, 2).Message(4, l => l.Varint(1, 1)));
            builder.Message(5, m => m.Varint(1, 1).Varint(2, 1));
            builder.String(6, "").String(6, "samples").String(6, "count");
            return builder.ToArray();
        }

        var packed = ProfileDecoder.Decode(Build(packed: true));
        var unpacked = ProfileDecoder.Decode(Build(packed: false));

        Assert.Equal([3L, -1L], packed.Samples[0].Values);
        Assert.Equal([2UL, 1UL], packed.Samples[0].Locations.Select(l => l.Id));
        Assert.Equal(ProfileText.Render(packed), ProfileText.Render(unpacked));
    }

    [Fact]
    public void Decode_GroupsLabelsLikeGo_WithNumbersAndUnits()
    {
        using var builder = ProtoBuilder.Minimal();
        builder.Message(2, m => m
            .Varint(1, 1).Varint(2, 1)
            .Message(3, l => l.Varint(1, 5).Varint(2, 6))
            .Message(3, l => l.Varint(1, 5).Varint(2, 7))
            .Message(3, l => l.Varint(1, 8).Varint(3, 10))
            .Message(3, l => l.Varint(1, 8).Varint(3, 20).Varint(4, 9))
            .Message(3, l => l.Varint(1, 8).Varint(3, 30))
            .Message(3, l => l.Varint(1, 6)));
        builder.String(6, "key").String(6, "a").String(6, "b").String(6, "bytes").String(6, "kilobytes");

        var sample = ProfileDecoder.Decode(builder.ToArray()).Samples[1];

        Assert.Equal(["a", "b"], sample.Labels!["key"]);
        Assert.Equal([10L, 20L, 30L], sample.NumLabels!["bytes"]);
        Assert.Equal(["", "kilobytes", ""], sample.NumUnits!["bytes"]);
        Assert.Single(sample.Labels);
    }

    [Fact]
    public void Decode_RenumbersIds_WhenFunctionAndLocationIdsAreZero()
    {
        using var builder = ProtoBuilder.Minimal(functionId: 0, locationId: 0, lineFunctionId: 0, sampleLocationId: 0);

        var profile = ProfileDecoder.Decode(builder.ToArray(), null, out var renumbered);

        Assert.True(renumbered);
        Assert.Equal(1UL, profile.Functions[0].Id);
        Assert.Equal(1UL, profile.Locations[0].Id);
        Assert.Same(profile.Functions[0], profile.Samples[0].Locations[0].Lines[0].Function);
        Assert.Null(ProfileValidator.FindProblem(profile));
    }

    [Theory]
    [InlineData(MissingIds.Functions)]
    [InlineData(MissingIds.Locations)]
    [InlineData(MissingIds.Mappings)]
    [InlineData(MissingIds.Mappings | MissingIds.Functions | MissingIds.Locations)]
    public void Decode_ResolvesReferencesByPosition_WhenTableHasNoIds(MissingIds missing)
    {
        var expected = ProfileDecoder.Decode(ProfileWithoutIds.Write(MissingIds.None), null, out var referenceRenumbered);

        var profile = ProfileDecoder.Decode(ProfileWithoutIds.Write(missing), null, out var renumbered);

        Assert.False(referenceRenumbered);
        Assert.True(renumbered);
        Assert.Equal(ProfileText.Render(expected), ProfileText.Render(profile));
        Assert.Null(ProfileValidator.FindProblem(profile));
    }

    [Fact]
    public void Decode_ThrowsMalformed_WhenReferenceIsPastTableWithoutIds()
    {
        using var builder = ProtoBuilder.Minimal(functionId: 0, lineFunctionId: 3);
        builder.Message(5, m => m.Varint(2, 3));

        AssertMalformed(builder.ToArray(), "malformed profile: location id: 1 has a line with unknown function id 3");
    }

    [Fact]
    public void Decode_ThrowsMalformed_WhenReferenceIsZeroInTableWithoutIds()
    {
        using var builder = ProtoBuilder.Minimal(functionId: 0, lineFunctionId: 0);
        builder.Message(5, m => m.Varint(2, 3));

        AssertMalformed(builder.ToArray(), "malformed profile: location id: 1 has a line with unknown function id 0");
    }

    [Fact]
    public void Decode_RenumbersIds_WhenUnreferencedIdIsRepeated()
    {
        using var builder = ProtoBuilder.Minimal(locationId: 5, sampleLocationId: 5);
        builder.Message(4, m => m.Varint(1, 9));
        builder.Message(4, m => m.Varint(1, 9));

        var profile = ProfileDecoder.Decode(builder.ToArray(), null, out var renumbered);

        Assert.True(renumbered);
        Assert.Equal([1UL, 2UL, 3UL], profile.Locations.Select(l => l.Id));
        Assert.Same(profile.Locations[0], profile.Samples[0].Locations[0]);
    }

    [Fact]
    public void Decode_ThrowsMalformed_WhenReferencedLocationIdIsRepeated()
    {
        using var builder = ProtoBuilder.Minimal();
        builder.Message(4, m => m.Varint(1, 1));

        AssertMalformed(builder.ToArray(), "malformed profile: multiple locations with same id: 1");
    }

    [Fact]
    public void Decode_ThrowsMalformed_WhenSampleLocationIdIsUnknown()
    {
        using var builder = ProtoBuilder.Minimal(sampleLocationId: 42);

        AssertMalformed(builder.ToArray(), "malformed profile: sample 0 has unknown location id 42");
    }

    [Fact]
    public void Decode_ThrowsMalformed_WhenLineFunctionIdIsUnknown()
    {
        using var builder = ProtoBuilder.Minimal(lineFunctionId: 3);

        AssertMalformed(builder.ToArray(), "malformed profile: location id: 1 has a line with unknown function id 3");
    }

    [Fact]
    public void Decode_LeavesLocationUnmapped_WhenMappingIdIsUnknown()
    {
        using var builder = ProtoBuilder.Minimal();
        builder.Message(4, m => m.Varint(1, 2).Varint(2, 77));

        var profile = ProfileDecoder.Decode(builder.ToArray());

        Assert.Null(profile.Locations[1].Mapping);
    }

    [Fact]
    public void Decode_ThrowsMalformed_WhenValueCountDiffersFromSampleTypes()
    {
        using var builder = ProtoBuilder.Minimal();
        builder.Message(2, m => m.Varint(1, 1).Varint(2, 1).Varint(2, 2));

        AssertMalformed(builder.ToArray(), "malformed profile: mismatch: sample 1 has 2 values vs. 1 types");
    }

    [Fact]
    public void Decode_ThrowsMalformed_WhenSamplesHaveNoSampleTypes()
    {
        using var builder = new ProtoBuilder();
        builder.Message(2, m => m.Varint(2, 1)).String(6, "");

        AssertMalformed(builder.ToArray(), "malformed profile: missing sample type information");
    }

    [Fact]
    public void Decode_ThrowsMalformed_WhenStringIndexIsOutOfRange()
    {
        using var builder = ProtoBuilder.Minimal(nameIndex: 99);

        AssertMalformed(builder.ToArray(), "malformed profile: function name refers to string index 99, but the string table has 5 entries");
    }

    [Fact]
    public void Decode_ThrowsUnrecognized_WhenFirstStringIsNotEmpty()
    {
        using var builder = new ProtoBuilder();
        builder.Message(1, m => m.Varint(1, 1)).String(6, "x");

        AssertMalformed(builder.ToArray(), "parsing profile: unrecognized profile format");
    }

    [Theory]
    [InlineData(new byte[] { 0x0a, 0x05, 0x08 })]
    [InlineData(new byte[] { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 })]
    [InlineData(new byte[] { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f })]
    [InlineData(new byte[] { 0x0b, 0x08, 0x01 })]
    [InlineData(new byte[] { 0x0c })]
    [InlineData(new byte[] { 0x08, 0x01 })]
    [InlineData(new byte[] { 0x00 })]
    public void Decode_ThrowsUnrecognized_ForBrokenWireFormat(byte[] data)
    {
        AssertMalformed(data, "parsing profile: unrecognized profile format");
    }

    private static void AssertMalformed(byte[] data, string message)
    {
        var e = Assert.Throws<ProfileFormatException>(() => ProfileDecoder.Decode(data));
        Assert.Equal(message, e.Message);
        var gzipped = Assert.Throws<ProfileFormatException>(() => ProfileDecoder.Decode(Gzip(data)));
        Assert.Equal(message, gzipped.Message);
    }

    internal static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    internal static string Ascii(byte[] data) => Encoding.ASCII.GetString(data);
}
