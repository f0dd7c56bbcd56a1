using Profefe.Pprof.Legacy;
using Profefe.Testing;

namespace Profefe.Pprof.Tests.Legacy;

/// <summary>The legacy files of the corpus, read through the public decoder and written back for Go.</summary>
public sealed class LegacyCorpusTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("profefe-legacy-").FullName;

    public static TheoryData<string> AcceptedLegacyFiles()
    {
        var data = new TheoryData<string>();
        foreach (var entry in CorpusManifest.Entries)
        {
            if (entry.Format == "legacy" && entry.ProfefeStatus == 200)
            {
                data.Add(entry.File);
            }
        }

        return data;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Manifest_ListsLegacyFiles_EachWithGoExpectation()
    {
        var files = CorpusManifest.Entries.Where(e => e.Format == "legacy" && e.ProfefeStatus == 200).Select(e => e.File).ToList();
        Assert.Equal(20, files.Count);
        foreach (var file in files)
        {
            var expected = TestData.PathOf(Path.Combine(LegacyGolden.Folder, Path.GetFileName(file) + ".json"));
            Assert.True(File.Exists(expected), "no Go expectation for " + file);
        }
    }

    [Theory]
    [MemberData(nameof(AcceptedLegacyFiles))]
    public void Decode_GivesManifestShape_ForAcceptedLegacyFile(string file)
    {
        var entry = CorpusManifest.Get(file);

        var profile = ProfileDecoder.Decode(TestData.Read(file));

        Assert.Equal(entry.SampleTypes, string.Join(',', profile.SampleTypes));
        Assert.Equal(entry.PeriodType, profile.PeriodType?.ToString() ?? "/");
        Assert.Equal(entry.Samples, profile.Samples.Count);
        Assert.Equal(entry.Locations, profile.Locations.Count);
    }

    [Theory]
    [MemberData(nameof(AcceptedLegacyFiles))]
    public void Decode_KeepsGoParse_ForAcceptedLegacyFile(string file)
    {
        var expected = LegacyGolden.Expected(Path.GetFileName(file));

        var profile = ProfileDecoder.Decode(TestData.Read(file));

        Assert.Equal(LegacyGolden.Format(expected), LegacyGolden.Format(LegacyGolden.Dump(profile)));
    }

    [Theory]
    [MemberData(nameof(AcceptedLegacyFiles))]
    public void EncodeThenDecode_KeepsProfile_ForAcceptedLegacyFile(string file)
    {
        var profile = ProfileDecoder.Decode(TestData.Read(file));

        var again = ProfileDecoder.Decode(ProfileEncoder.EncodeToArray(profile));

        Assert.Equal(LegacyGolden.Format(LegacyGolden.Dump(profile)), LegacyGolden.Format(LegacyGolden.Dump(again)));
    }

    [Theory]
    [MemberData(nameof(AcceptedLegacyFiles))]
    public void GoPprofRaw_ReadsConvertedLegacyProfile_AsItReadsTheOriginal(string file)
    {
        var original = TestData.PathOf(file);
        var written = Path.Combine(_directory, Path.GetFileName(file) + ".pb.gz");
        File.WriteAllBytes(written, ProfileEncoder.EncodeToArray(ProfileDecoder.Decode(File.ReadAllBytes(original))));

        var expected = GoPprof.Run(original, "-raw", "-symbolize=none");
        var actual = GoPprof.Run(written, "-raw", "-symbolize=none");

        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(AcceptedLegacyFiles))]
    public void GoPprofTop_ReadsConvertedLegacyProfile_AsItReadsTheOriginal(string file)
    {
        var original = TestData.PathOf(file);
        var written = Path.Combine(_directory, Path.GetFileName(file) + ".top.pb.gz");
        File.WriteAllBytes(written, ProfileEncoder.EncodeToArray(ProfileDecoder.Decode(File.ReadAllBytes(original))));

        Assert.Equal(GoPprof.Run(original, "-top", "-symbolize=none"), GoPprof.Run(written, "-top", "-symbolize=none"));
    }

    [Fact]
    public void TryParse_ReturnsFalse_ForProtoCorpusFile()
    {
        var data = TestData.Read("pprof-thirdparty/google-pprof/internal__driver__testdata__go.nomappings.crash");

        Assert.False(LegacyProfileParser.TryParse(data, ProfileDecoderOptions.Default, out var profile));
        Assert.Null(profile);
    }
}
