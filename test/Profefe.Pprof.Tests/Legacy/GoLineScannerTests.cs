using System.Text;
using Profefe.Pprof.Legacy;

namespace Profefe.Pprof.Tests.Legacy;

public sealed class GoLineScannerTests
{
    private static List<string> Lines(byte[] data, out string? error)
    {
        var scanner = new GoLineScanner(data);
        var lines = new List<string>();
        while (scanner.Scan())
        {
            lines.Add(Encoding.UTF8.GetString(scanner.Text));
        }

        Assert.Equal(0, scanner.Text.Length);
        error = scanner.Error;
        return lines;
    }

    [Fact]
    public void Scan_SplitsLikeScanLines()
    {
        Assert.Equal(["a", "", "b", "c"], Lines("a\r\n\nb\nc"u8.ToArray(), out var error));
        Assert.Null(error);
        Assert.Equal(["a"], Lines("a\n"u8.ToArray(), out _));
        Assert.Empty(Lines([], out _));
    }

    [Fact]
    public void Scan_StopsWithTokenTooLong_AtSixtyFourKiB()
    {
        var fits = Encoding.ASCII.GetBytes("x\n" + new string('a', GoLineScanner.MaxTokenSize - 1) + "\ny");
        Assert.Equal(3, Lines(fits, out var error).Count);
        Assert.Null(error);

        var tooLong = Encoding.ASCII.GetBytes("x\n" + new string('a', GoLineScanner.MaxTokenSize) + "\ny");
        Assert.Equal(["x"], Lines(tooLong, out error));
        Assert.Equal("bufio.Scanner: token too long", error);
    }

    [Fact]
    public void Scan_AfterTokenTooLong_HandsBackTheBufferedPrefixOnce()
    {
        var scanner = new GoLineScanner(Encoding.ASCII.GetBytes(new string('a', 70_000)));

        Assert.False(scanner.Scan());
        Assert.True(scanner.Scan());
        Assert.Equal(GoLineScanner.MaxTokenSize, scanner.Text.Length);
        Assert.False(scanner.Scan());
        Assert.NotNull(scanner.Error);
    }
}
