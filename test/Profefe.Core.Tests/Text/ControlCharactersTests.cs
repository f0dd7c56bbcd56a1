using Profefe.Core.Text;

namespace Profefe.Core.Tests.Text;

public sealed class ControlCharactersTests
{
    [Theory]
    [InlineData("/api/0/profiles", "/api/0/profiles")]
    [InlineData("svc\nINFO forged line", "svc\\x0aINFO forged line")]
    [InlineData("a\u001b[31mred\\", "a\\x1b[31mred\\\\")]
    [InlineData("nul\0 and \u2028", "nul\\x00 and \\u2028")]
    public void Escape_WritesControlCharactersAsEscapes(string text, string escaped)
    {
        Assert.Equal(escaped, ControlCharacters.Escape(text));
    }
}
