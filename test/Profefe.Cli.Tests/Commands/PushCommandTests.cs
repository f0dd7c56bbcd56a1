using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Cli.Tests.Commands;

public sealed class PushCommandTests
{
    private const string UnrecognizedFormat = "malformed profile (could not parse pprof profile: parsing profile: unrecognized profile format)";
    private const string NoSamples = "malformed profile (could not parse pprof profile: profile is empty: no samples)";

    [Fact]
    public async Task Push_ReportsEachFile_AndFailsWithCollectorsErrors_WhenCorpusHasRejectedFiles()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var collector = await TestCollector.StartAsync();
        string[] folders = ["go", "pprof-thirdparty", "profefe"];
        var files = folders.SelectMany(f => Directory.GetFiles(TestData.PathOf(f), "*", SearchOption.AllDirectories)).ToList();

        var result = await CliRunner.RunAsync(
            ["push", "--service", "corpus", "--type", "other", "--label", "source=testdata", "-j", "4", "--collector", collector.AddressText, .. folders.Select(TestData.PathOf)],
            ct);

        Assert.Equal(1, result.ExitCode);
        var expectedRejections = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // Go execution traces are not pprof: only type=trace stores them unparsed.
            [TestData.PathOf("profefe/collector_trace_1.out")] = UnrecognizedFormat,
            [TestData.PathOf("profefe/collector_cpu_no-samples.prof")] = NoSamples,
        };
        foreach (var trace in Directory.GetFiles(TestData.PathOf("go"), "trace_*.out"))
        {
            expectedRejections[trace] = UnrecognizedFormat;
        }

        var lines = result.OutputLines;
        foreach (var file in files)
        {
            var line = Assert.Single(lines, l => l.StartsWith("ok      " + file + " ", StringComparison.Ordinal) || l.StartsWith("FAILED  " + file + ":", StringComparison.Ordinal));
            if (expectedRejections.TryGetValue(file, out var error))
            {
                Assert.Equal($"FAILED  {file}: {error}", line);
            }
            else
            {
                Assert.Matches("^ok      .* [0-9a-v]{20} other \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$", line);
            }
        }

        var accepted = files.Count - expectedRejections.Count;
        Assert.StartsWith($"pushed {accepted} of {files.Count} files (", lines[^1], StringComparison.Ordinal);
        Assert.EndsWith($"; {expectedRejections.Count} failed", lines[^1], StringComparison.Ordinal);
        var stored = await collector.FindAsync("corpus", "other", ct);
        Assert.Equal(accepted, stored.Count);
        Assert.All(stored, p => Assert.Equal([new Client.ProfileLabel("source", "testdata")], p.Labels));
    }

    [Fact]
    public async Task Push_StoresTracesUnparsed_WhenTypeIsTrace()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var collector = await TestCollector.StartAsync();
        var traces = Directory.GetFiles(TestData.PathOf("go"), "trace_*.out").Order(StringComparer.Ordinal).ToArray();

        var result = await CliRunner.RunAsync(["push", "-s", "traces", "-t", "trace", "--collector", collector.AddressText, .. traces], ct);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith($"pushed {traces.Length} of {traces.Length} files", result.OutputLines[^1], StringComparison.Ordinal);
        var stored = await collector.FindAsync("traces", "trace", ct);
        Assert.Equal(traces.Length, stored.Count);
        var first = Assert.Single(result.OutputLines, l => l.StartsWith("ok      " + traces[0] + " ", StringComparison.Ordinal));
        var id = first.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];
        Assert.Equal(await File.ReadAllBytesAsync(traces[0], ct), await collector.Api.GetProfileAsync([id], ct));
    }

    [Fact]
    public async Task Push_FailsEveryFile_WhenCollectorIsDown()
    {
        var ct = TestContext.Current.CancellationToken;
        var file = TestData.PathOf("go/cpu_hash_01.pb.gz");

        var result = await CliRunner.RunAsync(["push", "-s", "x", "-t", "cpu", "--collector", $"http://127.0.0.1:{FreePort.Next()}", file], ct);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"FAILED  {file}: cannot reach the collector at http://127.0.0.1:", result.OutputLines[0], StringComparison.Ordinal);
        Assert.EndsWith("1 failed", result.OutputLines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Push_Fails_WhenDirectoryIsEmpty()
    {
        var empty = Directory.CreateTempSubdirectory("profefe-empty-").FullName;
        try
        {
            var result = await CliRunner.RunAsync(["push", "-s", "x", "-t", "cpu", "--collector", "http://127.0.0.1:1", empty], TestContext.Current.CancellationToken);

            Assert.Equal(1, result.ExitCode);
            Assert.Equal("profefe push: no files to push: the directories are empty\n", result.Error);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Theory]
    [InlineData(new[] { "push", "-s", "x", "-t", "cpu", "/no/such/file" }, "profefe push: no such file or directory: /no/such/file")]
    [InlineData(new[] { "push", "-s", "x", "-t", "cpu", "-l", "novalue", "missing.pb.gz" }, "profefe push: invalid label \"novalue\" (expected key=value)")]
    [InlineData(new[] { "push", "-s", "x", "-t", "cpu", "-j", "0", "missing.pb.gz" }, "profefe push: --concurrency must be between 1 and 256")]
    [InlineData(new[] { "find", "-s", "x", "--from", "yesterday" }, "profefe find: invalid time \"yesterday\"")]
    [InlineData(new[] { "find", "-s", "x", "--from", "now", "--to", "-1h" }, "profefe find: --from (")]
    [InlineData(new[] { "top", "--collector", "http://127.0.0.1:1" }, "profefe top: give either profile ids or --service")]
    [InlineData(new[] { "services", "--collector", "ftp://x" }, "profefe services: invalid collector address \"ftp://x\"")]
    [InlineData(new[] { "scrape", "--config", "/no/such/scrape.yaml" }, "profefe scrape: /no/such/scrape.yaml: Could not find")]
    public async Task Commands_PrintOneReadableLine_WhenInputIsBad(string[] args, string expectedStart)
    {
        var result = await CliRunner.RunAsync(args, TestContext.Current.CancellationToken);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith(expectedStart, result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }
}
