using System.Text.Json;
using Profefe.Core.Views;
using Profefe.Pprof;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Cli.Tests.Commands;

/// <summary>find, get, merge, top and services against a running collector.</summary>
public sealed class QueryCommandsTests
{
    private static readonly string[] CpuFiles = ["go/cpu_hash_01.pb.gz", "go/cpu_hash_02.pb.gz", "go/cpu_json_01.pb.gz"];

    [Fact]
    public async Task QueryCommands_RoundTripPushedProfiles()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var collector = await TestCollector.StartAsync();
        var address = collector.AddressText;
        var output = Directory.CreateTempSubdirectory("profefe-cli-out-").FullName;
        try
        {
            var push = await CliRunner.RunAsync(["push", "-s", "shop", "-t", "cpu", "-l", "region=eu", "--collector", address, .. CpuFiles.Select(TestData.PathOf)], ct);
            Assert.True(push.ExitCode == 0, push.ToString());
            var heap = await CliRunner.RunAsync(["push", "-s", "shop", "-t", "heap", "--collector", address, TestData.PathOf("go/heap_01.pb.gz")], ct);
            Assert.True(heap.ExitCode == 0, heap.ToString());

            var services = await CliRunner.RunAsync(["services", "--collector", address], ct);
            Assert.Equal(0, services.ExitCode);
            Assert.Equal(["shop"], services.OutputLines);

            // find --json: every pushed profile, oldest first.
            var findJson = await CliRunner.RunAsync(["find", "-s", "shop", "--from", "2000-01-01T00:00:00", "--to", "now", "--json", "--collector", address], ct);
            Assert.True(findJson.ExitCode == 0, findJson.ToString());
            var found = JsonSerializer.Deserialize<List<Client.ProfileInfo>>(findJson.Output)!;
            Assert.Equal(4, found.Count);
            Assert.Equal(3, found.Count(p => p.Type == "cpu"));
            Assert.True(found.Zip(found.Skip(1)).All(pair => pair.First.CreatedAt <= pair.Second.CreatedAt));

            // find as a table, filtered by type and label.
            var findTable = await CliRunner.RunAsync(["find", "-s", "shop", "-t", "cpu", "-l", "region=eu", "--from", "-100000h", "--collector", address], ct);
            Assert.True(findTable.ExitCode == 0, findTable.ToString());
            Assert.Equal(4, findTable.OutputLines.Length);
            Assert.Matches("^ID +TYPE +CREATED_AT +LABELS$", findTable.OutputLines[0]);
            Assert.All(findTable.OutputLines.Skip(1), line => Assert.Matches("^[0-9a-v]{20}  cpu   \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ  region=eu$", line));
            var cpuIds = findTable.OutputLines.Skip(1).Select(l => l[..20]).ToArray();

            // get one id: the stored bytes verbatim.
            var one = Path.Combine(output, "one.pb.gz");
            var get = await CliRunner.RunAsync(["get", cpuIds[0], "-o", one, "--collector", address], ct);
            Assert.True(get.ExitCode == 0, get.ToString());
            var uploaded = CpuFiles.Select(f => TestData.Read(f)).ToList();
            Assert.Contains(uploaded, bytes => bytes.AsSpan().SequenceEqual(File.ReadAllBytes(one)));

            // get several ids: one merged profile holding every sample.
            var merged = Path.Combine(output, "merged.pb.gz");
            var getMerged = await CliRunner.RunAsync(["get", .. cpuIds, "-o", merged, "--collector", address], ct);
            Assert.True(getMerged.ExitCode == 0, getMerged.ToString());
            var expectedTotal = uploaded.Sum(bytes => TotalSamples(ProfileDecoder.Decode(bytes)));
            Assert.Equal(expectedTotal, TotalSamples(ProfileDecoder.Decode(File.ReadAllBytes(merged))));

            // merge by query: the same samples.
            var byQuery = Path.Combine(output, "query.pb.gz");
            var merge = await CliRunner.RunAsync(["merge", "-s", "shop", "-t", "cpu", "--from", "2000-01-01", "--to", "now", "-o", byQuery, "--collector", address], ct);
            Assert.True(merge.ExitCode == 0, merge.ToString());
            Assert.Equal(expectedTotal, TotalSamples(ProfileDecoder.Decode(File.ReadAllBytes(byQuery))));

            // top by query and by ids agree, and name the hottest function of the merged profile.
            var queried = ProfileDecoder.Decode(File.ReadAllBytes(byQuery));
            var expectedTop = TopTableBuilder.Build(queried, SampleTypeIndex.Resolve(queried, null), FrameNaming.ByBinary).Rows[0].Name;
            var topQuery = await CliRunner.RunAsync(["top", "-s", "shop", "-t", "cpu", "--from", "2000-01-01", "-n", "5", "--collector", address], ct);
            var topIds = await CliRunner.RunAsync(["top", .. cpuIds, "-n", "5", "--collector", address], ct);
            Assert.True(topQuery.ExitCode == 0, topQuery.ToString());
            Assert.Equal(topQuery.Output, topIds.Output);
            var lines = topQuery.OutputLines;
            Assert.Equal("Type: cpu", lines[0]);
            var header = Array.FindIndex(lines, l => l.StartsWith("flat  flat%", StringComparison.Ordinal));
            Assert.True(header > 0, topQuery.Output);
            Assert.Equal(5, lines.Length - header - 1);
            Assert.EndsWith("  " + expectedTop, lines[header + 1], StringComparison.Ordinal);

            // Errors come back as the collector's text.
            var missing = await CliRunner.RunAsync(["get", "bpc00mript33iv4net00", "-o", Path.Combine(output, "x"), "--collector", address], ct);
            Assert.Equal(1, missing.ExitCode);
            Assert.Equal("profefe get: nothing found\n", missing.Error);
            var trace = await CliRunner.RunAsync(["merge", "-s", "shop", "-t", "trace", "-o", Path.Combine(output, "x"), "--collector", address], ct);
            Assert.Equal("profefe merge: can't merge profiles of trace type\n", trace.Error);
            var none = await CliRunner.RunAsync(["find", "-s", "nobody", "--collector", address], ct);
            Assert.Equal(0, none.ExitCode);
            Assert.StartsWith("no profiles of service \"nobody\" from ", none.Error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private static long TotalSamples(Profile profile) => profile.Samples.Sum(s => s.Values[0]);
}
