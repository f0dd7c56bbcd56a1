using Profefe.Cli.Arguments;
using Profefe.Client;

namespace Profefe.Cli.Tests.Arguments;

public sealed class LabelArgumentTests
{
    [Fact]
    public void ParseAll_SplitsOnFirstEquals_AndKeepsOrder()
    {
        var labels = LabelArgument.ParseAll(["region=eu-west", "query=a=b", "empty="]);

        Assert.Equal([new ProfileLabel("region", "eu-west"), new ProfileLabel("query", "a=b"), new ProfileLabel("empty", "")], labels);
    }

    [Theory]
    [InlineData("novalue")]
    [InlineData("=value")]
    [InlineData(" =value")]
    public void Parse_Throws_WhenNotKeyEqualsValue(string text)
    {
        var e = Assert.Throws<FormatException>(() => LabelArgument.Parse(text));

        Assert.StartsWith($"invalid label \"{text}\"", e.Message, StringComparison.Ordinal);
    }
}
