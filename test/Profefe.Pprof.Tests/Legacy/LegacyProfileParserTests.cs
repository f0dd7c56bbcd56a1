using Profefe.Pprof.Legacy;

namespace Profefe.Pprof.Tests.Legacy;

public sealed class LegacyProfileParserTests
{
    private const string Unrecognized = "parsing profile: unrecognized profile format";

    [Theory]
    [MemberData(nameof(LegacyGolden.Names), MemberType = typeof(LegacyGolden))]
    public void TryParse_MatchesGoParse_ForEachLegacyInput(string name)
    {
        var data = File.ReadAllBytes(LegacyGolden.InputPath(name));
        var expected = LegacyGolden.Expected(name);

        if (expected["error"]?.GetValue<string>() is { } error)
        {
            if (error == Unrecognized)
            {
                Assert.False(LegacyProfileParser.TryParse(data, ProfileDecoderOptions.Default, out var none));
                Assert.Null(none);
            }
            else
            {
                var thrown = Assert.Throws<ProfileFormatException>(() => LegacyProfileParser.TryParse(data, ProfileDecoderOptions.Default, out _));
                Assert.Equal(error, thrown.Message);
            }

            return;
        }

        Assert.True(LegacyProfileParser.TryParse(data, ProfileDecoderOptions.Default, out var profile));
        Assert.Equal(LegacyGolden.Format(expected), LegacyGolden.Format(LegacyGolden.Dump(profile!)));
    }
}
