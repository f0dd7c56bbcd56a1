using System.Text;
using Profefe.Pprof.Legacy;

namespace Profefe.Pprof.Tests.Legacy;

public sealed class GoRegexTests
{
    private static string[]? Match(string pattern, string input)
    {
        var regex = GoRegex.Compile(pattern);
        var bytes = Encoding.UTF8.GetBytes(input);
        var captures = new int[2 * (regex.GroupCount + 1)];
        if (!regex.Match(bytes, captures))
        {
            return null;
        }

        var groups = new string[regex.GroupCount + 1];
        for (var i = 0; i < groups.Length; i++)
        {
            groups[i] = captures[2 * i] < 0 ? "" : Encoding.UTF8.GetString(bytes, captures[2 * i], captures[(2 * i) + 1] - captures[2 * i]);
        }

        return groups;
    }

    [Fact]
    public void Match_GivesBacktrackingGroups_WhenDigitsMustSplit()
    {
        // Go's contention sample pattern on "1234 @": the first group gives back one digit.
        Assert.Equal(["1234 @ 0x1", "123", "4", " 0x1"], Match(@"(\d+) *(\d+) @([ x0-9a-f]*)", "1234 @ 0x1")!);
    }

    [Fact]
    public void Match_FindsLeftmostStart_WhenEarlierStartsFail()
    {
        Assert.Equal(["-2: 3", "-2", "3"], Match(@"(-?\d+): *(\d+)", "1-2: 3")!);
    }

    [Fact]
    public void Match_PrefersOptionalBranch_InPatternOrder()
    {
        var groups = Match(@"^\s*(?:0x)?([[:xdigit:]]+)[\s-]?\s*(?:0x)?([[:xdigit:]]+):?", "0x400000-0x452000 r-xp");

        Assert.Equal(["400000", "452000"], groups![1..]);
    }

    [Fact]
    public void Match_SplitsHexRun_WhenNoSeparator()
    {
        var groups = Match(@"^(?:0x)?([[:xdigit:]]+)[\s-]?\s*(?:0x)?([[:xdigit:]]+)", "12345678");

        Assert.Equal(["1234567", "8"], groups![1..]);
    }

    [Fact]
    public void Match_ReportsUnsetGroup_AsEmpty()
    {
        Assert.Equal(["ab", "a", ""], Match("(a)(?:(x))?b", "ab")!);
    }

    [Fact]
    public void Match_RespectsTextAnchors()
    {
        Assert.Null(Match(@"\A(\d+) @(( 0x[0-9a-f]+)+)\z", "3 @ 0x1 trailing"));
        Assert.Equal("3", Match(@"\A(\d+) @(( 0x[0-9a-f]+)+)\z", "3 @ 0x1 0x2")![1]);
    }

    [Fact]
    public void Match_FinishesQuickly_OnPathologicalLine()
    {
        // A backtracking engine without memory needs about n² steps here; this one needs n × program.
        var line = new string('1', 60_000);

        Assert.Null(Match(@"(-?\d+): *(-?\d+) *\[ *(\d+): *(\d+) *] @([ x0-9a-f]*)", line));
        Assert.Null(Match(@"^\s*(?:0x)?([[:xdigit:]]+)[\s-]?\s*(?:0x)?([[:xdigit:]]+):?(?:\s+([-rwxp]+))?(?:\s+([[:xdigit:]]+))?\s+[[:xdigit:]]+:[[:xdigit:]]+\s+[[:digit:]]+(?:\s+(\S+))?", line));
    }

    [Fact]
    public void Compile_Rejects_UnsupportedSyntax()
    {
        Assert.Throws<ArgumentException>(() => GoRegex.Compile("a|b"));
        Assert.Throws<ArgumentException>(() => GoRegex.Compile(@"\p{L}"));
    }
}
