using Profefe.Cli.Arguments;
using Profefe.Pprof;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Cli.Tests.Arguments;

/// <summary><c>push --type auto</c>: a file's profefe type from its contents.</summary>
public sealed class ProfileTypeDetectorTests
{
    public static TheoryData<string, string> GoCorpus()
    {
        var data = new TheoryData<string, string>();
        foreach (var line in File.ReadLines(TestData.PathOf("MANIFEST.tsv")).Skip(1))
        {
            var columns = line.Split('\t');
            if (columns[0].StartsWith("go/", StringComparison.Ordinal))
            {
                data.Add(columns[0], columns[1]);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(GoCorpus))]
    public void Detect_FindsTheTypeTheCorpusWasTakenAs(string file, string expectedType)
    {
        Assert.Equal(expectedType, ProfileTypeDetector.Detect(TestData.Read(file), file));
    }

    [Theory]
    [InlineData("profefe/collector_cpu_1.prof", "cpu")]
    [InlineData("profefe/collector_heap_1.prof", "heap")]
    [InlineData("profefe/collector_trace_1.out", "trace")]
    public void Detect_ReadsProfefesOwnTestProfiles(string file, string expectedType)
    {
        Assert.Equal(expectedType, ProfileTypeDetector.Detect(TestData.Read(file), file));
    }

    [Theory]
    [InlineData("go/block_03.pb.gz", "block")]
    [InlineData("go/mutex_03.pb.gz", "mutex")]
    public void FromProfile_TellsBlockFromMutexByWhereStacksEnd_WhenTheFileNameSaysNothing(string file, string expectedType)
    {
        Assert.Equal(expectedType, ProfileTypeDetector.FromProfile(ProfileDecoder.Decode(TestData.Read(file)), "profile.pb.gz"));
    }

    [Fact]
    public void FromProfile_TakesContentionOutsideGosRuntimeAsMutex()
    {
        // The .NET agent's lock contention: stacks end in the waiting call, outside Go's runtime and sync.
        var profile = ContentionProfile("System.Threading.Monitor.Enter");

        Assert.Equal("mutex", ProfileTypeDetector.FromProfile(profile, "profile.pb.gz"));
    }

    [Fact]
    public void FromProfile_AsksForTheType_WhenAContentionProfileHasNoSamplesNorATellingName()
    {
        var empty = ContentionProfile(null);

        var e = Assert.Throws<ProfileFormatException>(() => ProfileTypeDetector.FromProfile(empty, "profile.pb.gz"));

        Assert.Equal("a block or mutex profile without samples: give --type block or --type mutex", e.Message);
        Assert.Equal("mutex", ProfileTypeDetector.FromProfile(empty, "/tmp/app-mutex.pb.gz"));
        Assert.Equal("block", ProfileTypeDetector.FromProfile(empty, "block.prof"));
    }

    [Fact]
    public void Detect_Throws_WhenTheFileIsNeitherAProfileNorATrace()
    {
        Assert.Throws<ProfileFormatException>(() => ProfileTypeDetector.Detect("hello, world\n"u8, "notes.txt"));
    }

    [Fact]
    public async Task Push_StoresEachFileAsItsOwnType_ByDefault()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var collector = await TestCollector.StartAsync();
        var expected = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [TestData.PathOf("go/cpu_hash_01.pb.gz")] = "cpu",
            [TestData.PathOf("go/heap_01.pb.gz")] = "heap",
            [TestData.PathOf("go/allocs_01.pb.gz")] = "other",
            [TestData.PathOf("go/block_01.pb.gz")] = "block",
            [TestData.PathOf("go/mutex_01.pb.gz")] = "mutex",
            [TestData.PathOf("go/goroutine_01.pb.gz")] = "goroutine",
            [TestData.PathOf("go/threadcreate_01.pb.gz")] = "threadcreate",
            [TestData.PathOf("go/trace_01.out")] = "trace",
        };
        var notes = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(notes, "hello, world\n", ct);

            var result = await CliRunner.RunAsync(["push", "-s", "mixed", "--collector", collector.AddressText, .. expected.Keys, notes], ct);

            Assert.Equal(1, result.ExitCode);
            foreach (var (file, type) in expected)
            {
                Assert.Single(result.OutputLines, l => l.StartsWith($"ok      {file} ", StringComparison.Ordinal) && l.Contains($" {type} ", StringComparison.Ordinal));
            }

            Assert.Contains($"FAILED  {notes}: cannot tell its type (parsing profile: unrecognized profile format); give --type", result.OutputLines);
            var stored = await collector.FindAsync("mixed", null, ct);
            Assert.Equal(expected.Values.Order(StringComparer.Ordinal), stored.Select(p => p.Type).Order(StringComparer.Ordinal));
        }
        finally
        {
            File.Delete(notes);
        }
    }

    private static Profile ContentionProfile(string? leaf)
    {
        var profile = new Profile { PeriodType = new SampleType("contentions", "count"), Period = 1 };
        profile.SampleTypes.Add(new SampleType("contentions", "count"));
        profile.SampleTypes.Add(new SampleType("delay", "nanoseconds"));
        if (leaf is not null)
        {
            var function = new Function { Id = 1, Name = leaf };
            var location = new Location { Id = 1, Lines = [new Line(function, 10)] };
            profile.Functions.Add(function);
            profile.Locations.Add(location);
            profile.Samples.Add(new Sample { Locations = [location], Values = [1, 1000] });
        }

        return profile;
    }
}
