using System.Text;
using Profefe.Pprof.Legacy;
using Profefe.Testing;

namespace Profefe.Pprof.Tests.Legacy;

/// <summary>Damaged legacy data either parses or raises ProfileFormatException, and big inputs stay linear.</summary>
public sealed class LegacyRobustnessTests
{
    private static readonly byte[][] Tokens =
    [
        "\n"u8.ToArray(), "0x"u8.ToArray(), "---"u8.ToArray(), " @ "u8.ToArray(), "="u8.ToArray(), "$"u8.ToArray(),
        "MAPPED_LIBRARIES:\n"u8.ToArray(), "--- Memory map: ---\n"u8.ToArray(), "99999999999999999999"u8.ToArray(),
        "-1"u8.ToArray(), ":"u8.ToArray(), "("u8.ToArray(), ")"u8.ToArray(), "\r"u8.ToArray(), [0, 0, 0, 0],
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
    ];

    public static TheoryData<string> Inputs()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(TestData.PathOf(Path.Combine(LegacyGolden.Folder, "inputs"))).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(path));
        }

        foreach (var name in new[] { "profile__testdata__cppbench.cpu", "profile__testdata__cppbench.heap", "profile__testdata__cppbench.thread", "profile__testdata__java.heap", "profile__testdata__java.contention", "profile__testdata__cppbench.contention", "profile__testdata__java.cpu" })
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void TryParse_ParsesOrRaisesFormatError_ForMutatedInput(string name)
    {
        var original = File.ReadAllBytes(LegacyGolden.InputPath(name));
        var random = new Random(name.GetHashCode(StringComparison.Ordinal) ^ 20261126);
        for (var i = 0; i < 300; i++)
        {
            var mutated = Mutate(original, random);
            try
            {
                if (LegacyProfileParser.TryParse(mutated, ProfileDecoderOptions.Default, out var profile))
                {
                    Assert.NotNull(profile);
                }
            }
            catch (ProfileFormatException e)
            {
                Assert.StartsWith("parsing profile: ", e.Message, StringComparison.Ordinal);
            }
        }
    }

    private static byte[] Mutate(byte[] data, Random random)
    {
        var bytes = new List<byte>(data);
        var edits = random.Next(1, 6);
        for (var e = 0; e < edits; e++)
        {
            var at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0 when bytes.Count > 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 2:
                    bytes.InsertRange(at, Tokens[random.Next(Tokens.Length)]);
                    break;
                case 3 when bytes.Count > 0:
                    var from = random.Next(bytes.Count);
                    var length = Math.Min(random.Next(1, 200), bytes.Count - from);
                    bytes.InsertRange(at, bytes.GetRange(from, length));
                    break;
                default:
                    if (bytes.Count > 0)
                    {
                        bytes.RemoveRange(at, Math.Min(random.Next(1, 50), bytes.Count - at));
                    }

                    break;
            }
        }

        return [.. bytes];
    }

    [Fact]
    public void TryParse_ReadsManyLongLines()
    {
        var stack = string.Concat(Enumerable.Range(1, 6_000).Select(i => $" 0x{i:x}"));
        var text = new StringBuilder("heap profile: 1: 1 [ 1: 1] @ heap_v2/524288\n");
        for (var i = 0; i < 40; i++)
        {
            text.Append(i + 1).Append(": 1024 [ 1: 1024] @").Append(stack).Append('\n');
        }

        text.Append("MAPPED_LIBRARIES:\n");
        for (var i = 0; i < 5; i++)
        {
            text.Append(new string('1', 60_000)).Append(":\n");
        }

        Assert.True(LegacyProfileParser.TryParse(Encoding.ASCII.GetBytes(text.ToString()), ProfileDecoderOptions.Default, out var profile));
        Assert.Equal(40, profile!.Samples.Count);
        Assert.Equal(6_000, profile.Locations.Count);
        Assert.Single(profile.Mappings);
    }

    [Fact]
    public void TryParse_RejectsAttributeSubstitutionBomb()
    {
        var text = new StringBuilder("heap profile: 1: 1 [ 1: 1] @ heap_v2/524288\n1: 1 [ 1: 1] @ 0x1\nMAPPED_LIBRARIES:\n");
        text.Append("a=").Append(new string('x', 60_000)).Append('\n');
        text.Append("0x0-0x10 ").Append(string.Concat(Enumerable.Repeat("$a", 1000))).Append('\n');

        var thrown = Assert.Throws<ProfileFormatException>(() => LegacyProfileParser.TryParse(Encoding.ASCII.GetBytes(text.ToString()), ProfileDecoderOptions.Default, out _));
        Assert.Equal("parsing profile: memory map line too long after attribute substitution", thrown.Message);
    }

    [Fact]
    public void TryParse_RejectsQuadraticAttributeNames()
    {
        var text = new StringBuilder("heap profile: 1: 1 [ 1: 1] @ heap_v2/524288\n1: 1 [ 1: 1] @ 0x1\nMAPPED_LIBRARIES:\n");
        text.Append(new string('$', 30_000)).Append("b=x\n");
        text.Append(new string('$', 30_000)).Append('\n');

        var thrown = Assert.Throws<ProfileFormatException>(() => LegacyProfileParser.TryParse(Encoding.ASCII.GetBytes(text.ToString()), ProfileDecoderOptions.Default, out _));
        Assert.Equal("parsing profile: memory map attribute substitution too complex", thrown.Message);
    }

    [Fact]
    public void TryParse_SubstitutesEarliestAttribute_LikeGoReplacer()
    {
        var text = "heap profile: 1: 1 [ 1: 1] @ heap_v2/524288\n1: 1 [ 1: 1] @ 0x1001\nMAPPED_LIBRARIES:\n" +
            "lib=/first\nlib=/second\nli=/short\n0x1000-0x2000 $lib/x.so\n";

        Assert.True(LegacyProfileParser.TryParse(Encoding.ASCII.GetBytes(text), ProfileDecoderOptions.Default, out var profile));
        Assert.Equal("/first/x.so", profile!.Mappings[0].File);
    }

    [Fact]
    public void TryParse_ReadsJavaProfile_WithHugeLines()
    {
        var text = new StringBuilder("--- contentionz 1 ---\nformat = java\nresolution = microseconds\n");
        text.Append("1 1 @ ").Append(string.Concat(Enumerable.Repeat("0x1 ", 200_000))).Append('\n');
        text.Append(" 0x1 ").Append(new string('(', 500_000)).Append(")\n");

        Assert.True(LegacyProfileParser.TryParse(Encoding.ASCII.GetBytes(text.ToString()), ProfileDecoderOptions.Default, out var profile));
        Assert.Equal(200_000, profile!.Samples[0].Locations.Length);
        Assert.Single(profile.Functions);
    }
}
