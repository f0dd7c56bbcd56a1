using System.Text.RegularExpressions;
using Profefe.Testing;
using Profefe.Testing.Profiles;

namespace Profefe.Pprof.Tests;

public sealed partial class GoPprofInteropTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("profefe-interop-").FullName;

    public static TheoryData<string> Files() =>
    [
        "go/cpu_mix_02.pb.gz",
        "go/heap_03.pb.gz",
        "go/goroutine_05.pb.gz",
        "go/mutex_05.pb.gz",
        "go/cpu_long_01.pb.gz",
        "pprof-thirdparty/parca/pkg__query__testdata__profile-with-labels.pb.gz",
        "pprof-thirdparty/google-pprof/internal__driver__testdata__go.nomappings.crash",
    ];

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [MemberData(nameof(Files))]
    public void GoPprofTop_ReadsWhatWeWrite_WithOriginalTotal(string file)
    {
        var original = TestData.PathOf(file);
        var written = Write(ProfileDecoder.Decode(File.ReadAllBytes(original)));

        var expected = GoPprof.Run(original, "-top", "-nodecount=5");
        var actual = GoPprof.Run(written, "-top", "-nodecount=5");

        Assert.Equal(Total(expected), Total(actual));
        Assert.Equal(TopLines(expected), TopLines(actual));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void GoPprofTraces_ReadsWhatWeWrite_WithSameStacks(string file)
    {
        var original = TestData.PathOf(file);
        var written = Write(ProfileDecoder.Decode(File.ReadAllBytes(original)));

        Assert.Equal(Traces(GoPprof.Run(original, "-traces")), Traces(GoPprof.Run(written, "-traces")));
    }

    [Fact]
    public void GoPprofTop_ReadsRenumberedProfile_WhenInputHadZeroAndDuplicateIds()
    {
        var profile = ProfileDecoder.Decode(TestData.Read("go/cpu_hash_01.pb.gz"));
        foreach (var function in profile.Functions)
        {
            function.Id = 0;
        }

        foreach (var location in profile.Locations)
        {
            location.Id = 7;
        }

        var written = Write(profile);

        var top = GoPprof.Run(written, "-top");
        Assert.Equal(Total(GoPprof.Run(TestData.PathOf("go/cpu_hash_01.pb.gz"), "-top")), Total(top));
    }

    [Theory]
    [InlineData(MissingIds.Functions)]
    [InlineData(MissingIds.Locations)]
    [InlineData(MissingIds.Mappings)]
    public void GoPprofRaw_ReadsReencodedProfile_WhenTableHadNoIds(MissingIds missing)
    {
        var reference = Path.Combine(_directory, "reference.pb");
        File.WriteAllBytes(reference, ProfileWithoutIds.Write(MissingIds.None));
        var validation = ProfileDecoder.Validate(ProfileWithoutIds.Write(missing));

        Assert.NotNull(validation.Normalized);
        var written = Write(validation.Normalized);

        // -raw prints every sample, location and mapping with ids: the rewrite must be the reference exactly.
        Assert.Equal(GoPprof.Run(reference, "-raw"), GoPprof.Run(written, "-raw"));
        Assert.Equal(GoPprof.Run(reference, "-top"), GoPprof.Run(written, "-top"));
    }

    private string Write(Profile profile)
    {
        var path = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".pb.gz");
        File.WriteAllBytes(path, ProfileEncoder.EncodeToArray(profile));
        return path;
    }

    // "Showing nodes accounting for 4.50s, 93.75% of 4.80s total" -> "4.80s"
    private static string Total(string top)
    {
        var match = TotalPattern().Match(top);
        Assert.True(match.Success, "no total in pprof output:\n" + top);
        return match.Groups[1].Value;
    }

    // The table rows after the header; the flat/cum columns and names must match exactly.
    private static string TopLines(string top) =>
        string.Join('\n', top.Split('\n').SkipWhile(l => !l.TrimStart().StartsWith("flat", StringComparison.Ordinal)).Skip(1));

    // -traces prints a header (file name, build id, time) and then the stacks; compare the stacks as a multiset.
    private static string Traces(string traces)
    {
        var blocks = traces.Split("-----------+-------------------------------------------------------")
            .Skip(1)
            .Select(b => b.Trim())
            .Order(StringComparer.Ordinal);
        return string.Join("\n--\n", blocks);
    }

    [GeneratedRegex(@"of ([^ ]+) total", RegexOptions.CultureInvariant)]
    private static partial Regex TotalPattern();
}
