using System.Text;
using Profefe.Pprof.Legacy;

namespace Profefe.Pprof.Tests.Legacy;

public sealed class LegacyTextTests
{
    [Theory]
    [InlineData("10", 0, 10L)]
    [InlineData("010", 0, 8L)]
    [InlineData("0x1f", 0, 31L)]
    [InlineData("0b101", 0, 5L)]
    [InlineData("0o17", 0, 15L)]
    [InlineData("1_000", 0, 1000L)]
    [InlineData("-9223372036854775808", 10, long.MinValue)]
    [InlineData("+7", 10, 7L)]
    public void TryParseInt64_ParsesLikeStrconv(string text, int numberBase, long expected)
    {
        Assert.True(LegacyText.TryParseInt64(Encoding.ASCII.GetBytes(text), numberBase, out var value, out _));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("09", 0, "strconv.ParseInt: parsing \"09\": invalid syntax")]
    [InlineData("1__0", 0, "strconv.ParseInt: parsing \"1__0\": invalid syntax")]
    [InlineData("1_0", 10, "strconv.ParseInt: parsing \"1_0\": invalid syntax")]
    [InlineData("", 10, "strconv.ParseInt: parsing \"\": invalid syntax")]
    [InlineData("9223372036854775808", 10, "strconv.ParseInt: parsing \"9223372036854775808\": value out of range")]
    [InlineData("99999999999999999999x", 10, "strconv.ParseInt: parsing \"99999999999999999999x\": value out of range")]
    public void TryParseInt64_FailsWithStrconvText(string text, int numberBase, string expected)
    {
        Assert.False(LegacyText.TryParseInt64(Encoding.ASCII.GetBytes(text), numberBase, out _, out var error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void ParseHexAddresses_TakesEveryHexNumber_AndRejectsOversized()
    {
        var addresses = new List<ulong>();

        Assert.Null(LegacyText.ParseHexAddresses("PC: 0x00bc8f1c: helper 0xffffffffffffffff 0x"u8, addresses));
        Assert.Equal([0xbc8f1cUL, ulong.MaxValue], addresses);
        Assert.Equal("failed to parse as hex 64-bit number: 0x10000000000000000", LegacyText.ParseHexAddresses("0x10000000000000000"u8, addresses));
    }

    [Fact]
    public void TrimSpace_TrimsUnicodeSpace_ButNotOtherBytes()
    {
        Assert.Equal("a b", Encoding.UTF8.GetString(LegacyText.TrimSpace(Encoding.UTF8.GetBytes("\u00a0\v\t a b\u3000\r\n"))));
        Assert.Equal(3, LegacyText.TrimSpace([0xff, (byte)'a', 0xc3]).Length);
    }

    [Theory]
    [InlineData("/usr/lib/libfoo.so", "libfoo.so")]
    [InlineData("dir/", "dir")]
    [InlineData("///", "/")]
    [InlineData("", ".")]
    public void FilepathBase_MatchesGo(string path, string expected) => Assert.Equal(expected, LegacyText.FilepathBase(path));

    [Fact]
    public void FloatToInt64_GivesMinValue_OutOfRange()
    {
        Assert.Equal(long.MinValue, LegacyText.FloatToInt64(1e19));
        Assert.Equal(long.MinValue, LegacyText.FloatToInt64(double.NaN));
        Assert.Equal(-3, LegacyText.FloatToInt64(-3.9));
    }
}
