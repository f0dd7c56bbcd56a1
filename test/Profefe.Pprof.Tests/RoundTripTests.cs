using Profefe.Testing;

namespace Profefe.Pprof.Tests;

public sealed class RoundTripTests
{
    public static TheoryData<string> AcceptedProtoFiles() => CorpusManifest.AcceptedProtoFiles();

    [Theory]
    [MemberData(nameof(AcceptedProtoFiles))]
    public void EncodeThenDecode_IsLossless_ForAcceptedProtoFile(string file)
    {
        var original = ProfileDecoder.Decode(TestData.Read(file));

        var decoded = ProfileDecoder.Decode(ProfileEncoder.EncodeToArray(original));

        Assert.Equal(ProfileText.Render(original), ProfileText.Render(decoded));
    }

    [Theory]
    [MemberData(nameof(AcceptedProtoFiles))]
    public void EncodeUncompressedThenDecode_IsLossless_ForAcceptedProtoFile(string file)
    {
        var original = ProfileDecoder.Decode(TestData.Read(file));

        var raw = ProfileEncoder.EncodeToArray(original, compress: false);

        Assert.NotEqual(0x1f, raw[0]);
        Assert.Equal(ProfileText.Render(original), ProfileText.Render(ProfileDecoder.Decode(raw)));
    }

    [Fact]
    public void Encode_IsDeterministic_ForSameProfile()
    {
        var profile = ProfileDecoder.Decode(TestData.Read("go/heap_03.pb.gz"));

        Assert.Equal(ProfileEncoder.EncodeToArray(profile, compress: false), ProfileEncoder.EncodeToArray(profile, compress: false));
    }
}
