using System.Globalization;
using Profefe.Core.Profiles;

namespace Profefe.Storage.S3.Tests;

public sealed class ProfefeS3KeyCodecTests
{
    // The key and time from profefe's own tests of its S3 layout (pkg/storage/s3).
    private const string ProfefeKey = "P0.svc1/1/9bsv0s3ipt32jfck6kt0,k1=v1,k2=v2";
    private static readonly DateTime ProfefeKeyTime = new(2009, 11, 10, 23, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void TryParseKey_KeyProfefeWrote_ReadsServiceTypeLabelsAndTimeFromXid()
    {
        Assert.True(ProfefeS3KeyCodec.TryParseKey(ProfefeKey, out var parsed, out var error), error);

        Assert.Equal(ProfileId.Parse("9bsv0s3ipt32jfck6kt0"), parsed.Meta.ProfileId);
        Assert.Equal("svc1", parsed.Meta.Service);
        Assert.Equal(ProfileType.Cpu, parsed.Meta.Type);
        Assert.Equal([new Label("k1", "v1"), new Label("k2", "v2")], parsed.Meta.Labels);
        Assert.Equal(ProfefeKeyTime, parsed.Meta.CreatedAt);
        Assert.Equal(DateTimeKind.Utc, parsed.Meta.CreatedAt.Kind);
        Assert.False(parsed.HasExtension);
    }

    [Fact]
    public void TryParseKey_NoLabels_ReadsEmptyLabels()
    {
        Assert.True(ProfefeS3KeyCodec.TryParseKey("P0.svc1/127/9bsv0s3ipt32jfck6kt0", out var parsed, out var error), error);

        Assert.Equal(ProfileType.Other, parsed.Meta.Type);
        Assert.Empty(parsed.Meta.Labels);
    }

    [Theory]
    [InlineData("invalidkey")]
    [InlineData("svc1/1/9bsv0s3ipt32jfck6kt0,k1=v1,k2=v2")]
    [InlineData("P0.svc1/cpu/9bsv0s3ipt32jfck6kt0,k1=v1,k2=v2")]
    [InlineData("P0.svc1/0/9bsv0s3ipt32jfck6kt0,k1=v1,k2=v2")]
    [InlineData("P0.svc1/7/9bsv0s3ipt32jfck6kt0")]
    [InlineData("P0.svc1/1/b49int,k1=v1,k2=v2")]
    [InlineData("P0.svc1/1/9bsv0s3ipt32jfck6kt0/%GG=v1")]
    [InlineData("P0.svc1/1/9bsv0s3ipt32jfck6kt0,%GG=v1")]
    [InlineData("P0.svc1/1")]
    public void TryParseKey_NotAProfileKey_ReturnsFalseWithReason(string key)
    {
        Assert.False(ProfefeS3KeyCodec.TryParseKey(key, out _, out var error));
        Assert.Contains(key, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ProfileType.Cpu, "1")]
    [InlineData(ProfileType.Heap, "2")]
    [InlineData(ProfileType.Block, "3")]
    [InlineData(ProfileType.Mutex, "4")]
    [InlineData(ProfileType.Goroutine, "5")]
    [InlineData(ProfileType.Threadcreate, "6")]
    [InlineData(ProfileType.Other, "127")]
    [InlineData(ProfileType.Trace, "128")]
    public void TypePrefix_EveryType_UsesProfefesNumber(ProfileType type, string number)
    {
        Assert.Equal($"P0.a__b/{number}/", ProfefeS3KeyCodec.TypePrefix("a/b", type));
        Assert.Equal(type, ProfefeS3KeyCodec.TypeFromNumber(int.Parse(number, CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void TypeNumber_Unknown_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ProfefeS3KeyCodec.TypeNumber(ProfileType.Unknown));
    }

    [Fact]
    public void CreateKey_PlainMeta_IsProfefesKeyWithExtensionAfterTheId()
    {
        var createdAt = ProfefeKeyTime.AddTicks(1_234_567);
        var meta = new ProfileMeta(ProfileId.Parse("9bsv0s3ipt32jfck6kt0"), ProfileType.Cpu, "svc1", [new Label("k1", "v1"), new Label("k2", "v2")], createdAt);

        var key = ProfefeS3KeyCodec.CreateKey(meta);

        Assert.Equal($"P0.svc1/1/9bsv0s3ipt32jfck6kt0,=c{createdAt.Ticks},k1=v1,k2=v2", key);
    }

    [Fact]
    public void CreateKey_LabelsNeedingEscapes_EscapesLikeGoQueryEscape()
    {
        var meta = new ProfileMeta(ProfileId.NewId(ProfefeKeyTime), ProfileType.Heap, "svc", [new Label("a b+c/é,=", "x y~z_1.2-3")], ProfefeKeyTime);

        var key = ProfefeS3KeyCodec.CreateKey(meta);

        Assert.EndsWith(",a+b%2Bc%2F%C3%A9%2C%3D=x+y~z_1.2-3", key, StringComparison.Ordinal);
        Assert.Equal("%F0%9F%94%A5", ProfefeS3KeyCodec.QueryEscape("🔥"));
    }

    [Fact]
    public void CreateKey_ThenTryParseKey_RoundTripsEveryField()
    {
        var createdAt = new DateTime(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc).AddTicks(5_000_001);
        var meta = new ProfileMeta(
            ProfileId.NewId(createdAt.AddDays(3)),
            ProfileType.Trace,
            "dienst-ü/日本 x",
            [new Label("emoji", "🔥"), new Label("empty", ""), new Label("schlüssel", "wert=1,2"), new Label("sp", " lead trail "), new Label("zone", "b"), new Label("zone", "a")],
            createdAt);

        var key = ProfefeS3KeyCodec.CreateKey(meta);
        Assert.True(ProfefeS3KeyCodec.TryParseKey(key, out var parsed, out var error), error);

        Assert.Equal(meta.ProfileId, parsed.Meta.ProfileId);
        Assert.Equal(meta.Type, parsed.Meta.Type);
        Assert.Equal(meta.Service, parsed.Meta.Service);
        Assert.Equal(meta.Labels, parsed.Meta.Labels);
        Assert.Equal(meta.CreatedAt, parsed.Meta.CreatedAt);
        Assert.Equal(DateTimeKind.Utc, parsed.Meta.CreatedAt.Kind);
        Assert.Equal("dienst-ü__日本 x", parsed.ServiceSegment);
        Assert.True(parsed.HasExtension);
    }

    [Fact]
    public void CreateKey_ReadAsProfefeReadsIt_GivesSameServiceSegmentTypeLabelsAndIdTime()
    {
        var id = ProfileId.NewId(ProfefeKeyTime);
        var meta = new ProfileMeta(id, ProfileType.Goroutine, "a/b", [new Label("empty", ""), new Label("k", "v,w")], ProfefeKeyTime.AddMinutes(-3));

        var read = ProfefeReader.Read(ProfefeS3KeyCodec.CreateKey(meta));

        Assert.Equal("a__b", read.Service);
        Assert.Equal(5, read.Type);
        Assert.Equal(id.ToString(), read.Digest);
        Assert.Equal([new Label("empty", ""), new Label("k", "v,w")], read.Labels);
    }

    [Fact]
    public void CreateKey_ThenTryParseKey_KeepsTheLabelOrderWritten()
    {
        var meta = new ProfileMeta(ProfileId.NewId(ProfefeKeyTime), ProfileType.Cpu, "svc", [new Label("region", "eu"), new Label("instance", "a-1"), new Label("region", "us")], ProfefeKeyTime);

        Assert.True(ProfefeS3KeyCodec.TryParseKey(ProfefeS3KeyCodec.CreateKey(meta), out var parsed, out var error), error);

        Assert.Equal(meta.Labels, parsed.Meta.Labels);
    }

    [Fact]
    public void TryParseKey_ExtensionServiceNotMatchingSegment_IsIgnored()
    {
        var key = "P0.other/1/9bsv0s3ipt32jfck6kt0,=c633979872000000000:sa%2Fb,k=v";

        Assert.True(ProfefeS3KeyCodec.TryParseKey(key, out var parsed, out var error), error);

        Assert.Equal("other", parsed.Meta.Service);
        Assert.Equal(ProfefeKeyTime, parsed.Meta.CreatedAt);
        Assert.False(parsed.HasExtension);
        Assert.Equal([new Label("k", "v")], parsed.Meta.Labels);
    }

    [Fact]
    public void TryParseKey_UnknownExtensionFields_AreSkipped()
    {
        var createdAt = ProfefeKeyTime.AddTicks(42);
        var key = $"P0.svc1/2/9bsv0s3ipt32jfck6kt0,=x1:c{createdAt.Ticks}:zfuture,k=v";

        Assert.True(ProfefeS3KeyCodec.TryParseKey(key, out var parsed, out var error), error);

        Assert.Equal(createdAt, parsed.Meta.CreatedAt);
        Assert.True(parsed.HasExtension);
    }

    /// <summary>
    /// profefe's reading of a key (metaFromProfileKey and Labels.FromString), restated from its documented
    /// behaviour, so that the test shows what profefe itself makes of the keys we write.
    /// </summary>
    private static class ProfefeReader
    {
        public static (string Service, int Type, string Digest, List<Label> Labels) Read(string key)
        {
            Assert.StartsWith("P0.", key, StringComparison.Ordinal);
            var parts = key["P0.".Length..].Split('/', 3);
            Assert.Equal(3, parts.Length);
            var tail = parts[2].Split(',', 2);
            var labels = new List<Label>();
            if (tail.Length == 2)
            {
                foreach (var chunk in tail[1].Split(','))
                {
                    var pair = chunk.Split('=', 2);
                    var labelKey = Unescape(pair[0].Trim());
                    if (labelKey.Length == 0)
                    {
                        continue;
                    }

                    labels.Add(new Label(labelKey, Unescape(pair.Length == 2 ? pair[1].Trim() : "")));
                }
            }

            Assert.Equal(20, tail[0].Length);
            return (parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture), tail[0], [.. labels.OrderBy(l => l.Key, StringComparer.Ordinal)]);
        }

        private static string Unescape(string text) => Uri.UnescapeDataString(text.Replace('+', ' '));
    }
}
