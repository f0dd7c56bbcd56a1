using Profefe.Server.Pyroscope.Protos.Querier;
using Profefe.Testing;
using Profefe.Testing.Collectors;
using Profefe.Testing.Servers;

namespace Profefe.Server.Tests.Pyroscope;

/// <summary>
/// The real @pyroscope/nodejs SDK (from npm) profiles a small Node program for about 30 s against the collector:
/// its wall and heap profiles are stored, and both Pyroscope's flame graph and profefe's merge put the program's
/// hot function on top.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
public sealed class NodeSdkTests
{
    private const string SdkVersion = "0.6.4";
    private const int ProgramSeconds = 30;

    private const string Program = """
        const Pyroscope = require('@pyroscope/nodejs').default;
        const [serverAddress, seconds] = process.argv.slice(2);
        Pyroscope.init({
          serverAddress,
          appName: 'nodeapp',
          tags: { pod: 'node-1' },
          flushIntervalMs: 10000,
          wall: { samplingDurationMs: 10000 },
          heap: { samplingIntervalBytes: 16 * 1024 },
        });
        Pyroscope.start();

        const kept = [];
        function allocateHot() {
          for (let i = 0; i < 200; i++) kept.push(new Array(256).fill(i));
          if (kept.length > 200000) kept.splice(0, 100000);
        }
        function spinHot(until) {
          let x = 0;
          while (Date.now() < until) x += Math.sqrt(x + 1);
          return x;
        }
        const end = Date.now() + Number(seconds) * 1000;
        function tick() {
          if (Date.now() >= end) {
            Pyroscope.stop().then(() => process.exit(0));
            return;
          }
          spinHot(Date.now() + 50);
          allocateHot();
          setImmediate(tick);
        }
        tick();
        """;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task NodeSdk_StoresWallAndHeapWithTheHotFunctionOnTop_WhenProfilingAProgram()
    {
        var node = ExternalDependency.RequireExecutable("node", "apt-get install nodejs npm");
        var npm = ExternalDependency.RequireExecutable("npm", "apt-get install npm");
        var directory = await InstallSdkAsync(npm);
        var app = Path.Combine(directory, "app.js");
        await File.WriteAllTextAsync(app, Program, Cancel);
        await using var collector = await TestCollector.StartAsync();

        var (exitCode, output) = await ExternalProcess.RunAsync(node, [app, collector.BaseAddress.ToString().TrimEnd('/'), ProgramSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(ProgramSeconds + 60));

        Assert.True(exitCode == 0, output);
        var stored = await StoredProfiles.FindAsync(collector.Client, "nodeapp");
        var wall = stored.Where(p => p.Labels.GetValueOrDefault("__name__") == "wall").ToList();
        var heap = stored.Where(p => p.Type == "heap").ToList();
        Assert.True(wall.Count >= 2, $"wall profiles: {wall.Count} of {stored.Count}");
        Assert.NotEmpty(heap);
        Assert.All(stored, p => Assert.Equal("node-1", p.Labels["pod"]));

        var client = new PyroscopeClient(collector.Client, json: false);
        var types = await client.CallAsync("querier.v1.QuerierService/ProfileTypes", new ProfileTypesRequest(), ProfileTypesResponse.Parser);
        var ids = string.Join(", ", types.ProfileTypes.Select(t => t.ID));
        var wallType = types.ProfileTypes.SingleOrDefault(t => t.Name == "wall" && t.SampleType == "wall")?.ID;
        var spaceType = types.ProfileTypes.SingleOrDefault(t => t.Name == "memory" && t.SampleType == "inuse_space")?.ID;
        Assert.True(wallType is not null && spaceType is not null, $"profile types: {ids}");

        await AssertHotFunctionOnTopAsync(client, collector, wallType!, wall, "spinHot");
        await AssertHotFunctionOnTopAsync(client, collector, spaceType!, heap, "allocateHot");
    }

    private static async Task AssertHotFunctionOnTopAsync(PyroscopeClient client, TestCollector collector, string type, List<StoredProfiles.Stored> profiles, string hot)
    {
        var request = new SelectMergeStacktracesRequest { ProfileTypeID = type, LabelSelector = "{service_name=\"nodeapp\"}" };
        var graph = (await client.CallAsync("querier.v1.QuerierService/SelectMergeStacktraces", request, SelectMergeStacktracesResponse.Parser)).Flamegraph;
        var selfByName = new Dictionary<string, long>();
        foreach (var node in graph.Levels.SelectMany(l => l.Values.Chunk(4)))
        {
            selfByName[graph.Names[(int)node[3]]] = selfByName.GetValueOrDefault(graph.Names[(int)node[3]]) + node[2];
        }

        // The SDK names a frame file:function:line.
        Assert.Contains($":{hot}:", selfByName.MaxBy(p => p.Value).Key, StringComparison.Ordinal);

        var parts = type.Split(':');
        var merged = await StoredProfiles.DownloadAsync(collector.Client, string.Join("+", profiles.Select(p => p.Id)));
        var stacks = StoredProfiles.Stacks(merged, StoredProfiles.IndexOf(merged, parts[1], parts[2]));
        var topLeaf = stacks.GroupBy(s => s.Key.Split(';')[^1]).MaxBy(g => g.Sum(s => s.Value))!.Key;
        Assert.Contains($":{hot}:", topLeaf, StringComparison.Ordinal);
        Assert.Equal(stacks.Values.Sum(), graph.Total);
    }

    /// <summary>Installs the SDK once per build output directory; npm fetches it (and its prebuilt native addon) from the registry.</summary>
    private static async Task<string> InstallSdkAsync(string npm)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "pyroscope-nodejs-" + SdkVersion);
        if (File.Exists(Path.Combine(directory, "node_modules", "@pyroscope", "nodejs", "package.json")))
        {
            return directory;
        }

        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "package.json"), """{"name":"profefe-node-sdk-test","private":true}""", Cancel);
        var (exitCode, output) = await ExternalProcess.RunAsync(
            npm, ["--prefix", directory, "install", "--no-audit", "--no-fund", "--no-save", "@pyroscope/nodejs@" + SdkVersion], TimeSpan.FromMinutes(5));
        if (exitCode != 0)
        {
            ExternalDependency.Unavailable($"npm could not install @pyroscope/nodejs@{SdkVersion}: {output}");
        }

        return directory;
    }
}
