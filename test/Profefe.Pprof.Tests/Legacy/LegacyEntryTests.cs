using Profefe.Pprof.Legacy;

namespace Profefe.Pprof.Tests.Legacy;

public sealed class LegacyEntryTests
{
    [Fact]
    public void TryParse_ReturnsFalse_ForEmptyInput()
    {
        Assert.False(LegacyProfileParser.TryParse([], ProfileDecoderOptions.Default, out var profile));
        Assert.Null(profile);
    }

    [Fact]
    public void Decode_RaisesGoError_ForMalformedLegacyProfile()
    {
        var data = "heap profile: 1: 1 [ 1: 1] @ heap_v2/524288\n0: 5 [ 0: 0] @ 0x1\n"u8.ToArray();

        var thrown = Assert.Throws<ProfileFormatException>(() => ProfileDecoder.Decode(data));

        Assert.Equal("parsing profile: inuse count was 0 but inuse bytes was 5", thrown.Message);
    }

    [Fact]
    public void Decode_ReadsGoroutineCountProfile()
    {
        var profile = ProfileDecoder.Decode("goroutine profile: total 3\n2 @ 0x401000 0x402000\n1 @ 0x401000\n"u8.ToArray());

        Assert.Equal("goroutine/count", string.Join(',', profile.SampleTypes));
        Assert.Equal([2L, 1L], profile.Samples.Select(s => s.Values[0]));
        Assert.Equal([0x400fffUL, 0x401fffUL], profile.Samples[0].Locations.Select(l => l.Address));
    }
}
