using Profefe.Core.Engine;
using Profefe.Core.Engine.Blocks;
using Profefe.Core.Engine.Symbols;
using Profefe.Core.Profiles;
using Profefe.Pprof;
using Profefe.Testing;

namespace Profefe.Core.Tests.Engine;

/// <summary>
/// The block cutter symbolizes well-formed profile.proto as read (<see cref="ProfileTables"/>) instead of decoding
/// it first: both ways must give the same row and add the same symbols to the table in the same order.
/// </summary>
public sealed class ProfileSymbolizerInPlaceTests
{
    private static readonly DateTime BaseTime = new(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);

    public static TheoryData<string> CorpusFiles()
    {
        var files = new TheoryData<string>();
        foreach (var line in File.ReadLines(TestData.PathOf("MANIFEST.tsv")).Skip(1))
        {
            files.Add(line.Split('\t')[0]);
        }

        return files;
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void Symbolize_ReadInPlace_GivesTheDecodedProfilesRowAndSymbols(string file)
    {
        var data = TestData.Read(file);
        var tables = new ProfileTables();
        if (!tables.TryLoad(data, ProfileDecoderOptions.Default))
        {
            // Refused: the cutter decodes it. Only data the decoder rejects or rewrites may be refused,
            // besides the rare well-formed proto the scan is unsure of (never a Go runtime profile).
            Assert.False(file.StartsWith("go/", StringComparison.Ordinal) && Accepted(data, out _), $"{file} is well-formed Go proto");
            return;
        }

        Assert.True(Accepted(data, out var decoded), "in-place reading took data the decoder rejects or rewrites");
        AssertSameAsDecoded(decoded!, tables);
    }

    [Fact]
    public void Symbolize_ReadInPlace_GroupsLabelsAsTheDecoder()
    {
        // Repeated keys, a key both as string and number, units on some numbers only, a dropped label (number 0, no unit).
        var function = new Function { Id = 1, Name = "main.work", Filename = "main.go" };
        var location = new Location { Id = 1, Address = 0x10, Lines = [new Line(function, 7)] };
        var profile = new Profile { Period = 10, PeriodType = new SampleType("cpu", "nanoseconds") };
        profile.SampleTypes.Add(new SampleType("samples", "count"));
        profile.Functions.Add(function);
        profile.Locations.Add(location);
        profile.Comments.Add("a comment");
        profile.Samples.Add(new Sample
        {
            Locations = [location],
            Values = [3],
            Labels = new Dictionary<string, string[]>(StringComparer.Ordinal) { ["b"] = ["1", "2"], ["a"] = ["x"] },
            NumLabels = new Dictionary<string, long[]>(StringComparer.Ordinal) { ["a"] = [5], ["n"] = [1, 2], ["z"] = [0] },
            NumUnits = new Dictionary<string, string[]>(StringComparer.Ordinal) { ["n"] = ["", "bytes"] },
        });
        profile.Samples.Add(new Sample { Locations = [location], Values = [4], NumLabels = new Dictionary<string, long[]>(StringComparer.Ordinal) { ["z"] = [0] } });
        profile.Samples.Add(new Sample { Locations = [location], Values = [5], Labels = new Dictionary<string, string[]>(StringComparer.Ordinal) { ["b"] = ["2"] } });
        var data = ProfileEncoder.EncodeToArray(profile);
        var tables = new ProfileTables();

        Assert.True(tables.TryLoad(data, ProfileDecoderOptions.Default));
        Assert.True(Accepted(data, out var decoded));
        var row = AssertSameAsDecoded(decoded!, tables);
        Assert.NotEqual(0, row.LabelSets[0]);
        Assert.Equal(0, row.LabelSets[1]);
    }

    [Fact]
    public void TryLoad_IdsToRenumber_IsRefused()
    {
        var profile = ProfileDecoder.Decode(TestData.Read("go/cpu_hash_02.pb.gz"));
        foreach (var location in profile.Locations)
        {
            location.Id += 5;
        }

        Assert.False(new ProfileTables().TryLoad(ProfileEncoder.EncodeToArray(profile), ProfileDecoderOptions.Default));
        Assert.False(new ProfileTables().TryLoad([0x1f, 0x8b, 8, 0], ProfileDecoderOptions.Default));
    }

    private static bool Accepted(byte[] data, out Profile? profile)
    {
        try
        {
            profile = ProfileDecoder.Decode(data, null, out var renumbered, out var legacy);
            return !renumbered && !legacy;
        }
        catch (ProfileFormatException)
        {
            profile = null;
            return false;
        }
    }

    // Both ways over a table that already holds another profile's symbols, then the same profile again
    // (every symbol known): rows and the table's pending symbols must be identical.
    private static ProfileRow AssertSameAsDecoded(Profile decoded, ProfileTables tables)
    {
        var warm = ProfileDecoder.Decode(TestData.Read("go/heap_01.pb.gz"));
        var expectedTable = new SymbolTable();
        var actualTable = new SymbolTable();
        var expectedSymbolizer = new ProfileSymbolizer(expectedTable);
        var actualSymbolizer = new ProfileSymbolizer(actualTable);
        expectedSymbolizer.Symbolize(warm, ProfileId.NewId(BaseTime), BaseTime);
        actualSymbolizer.Symbolize(warm, ProfileId.NewId(BaseTime), BaseTime);

        var id = ProfileId.NewId(BaseTime);
        ProfileRow? last = null;
        for (var round = 0; round < 2; round++)
        {
            var expected = expectedSymbolizer.Symbolize(decoded, id, BaseTime);
            var actual = actualSymbolizer.Symbolize(tables, id, BaseTime);
            Assert.Equal(expected.Stacks, actual.Stacks);
            Assert.Equal(expected.LabelSets, actual.LabelSets);
            Assert.Equal(expected.Values, actual.Values);
            Assert.Equal(expected.Header with { Comments = [] }, actual.Header with { Comments = [] });
            Assert.Equal(expected.Header.Comments, actual.Header.Comments);
            Assert.Equal(Pending(expectedTable), Pending(actualTable));
            last = actual;
        }

        return last!;
    }

    private static byte[] Pending(SymbolTable table)
    {
        var writer = new ColumnWriter();
        table.WritePending(writer);
        return writer.ToArray();
    }
}
