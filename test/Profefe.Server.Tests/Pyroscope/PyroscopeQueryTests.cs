using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text.Json;
using Google.Protobuf;
using Profefe.Pprof;
using Profefe.Server.Pyroscope.Protos.Push;
using Profefe.Server.Pyroscope.Protos.Querier;
using Profefe.Server.Pyroscope.Protos.Types;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Server.Tests.Pyroscope;

/// <summary>
/// Profiles of one service stored through profefe's API (pod a), Pyroscope's /ingest (pod b) and Push (pod c), queried
/// with every QuerierService method in binary proto and JSON; answers are checked against profefe's merge.
/// </summary>
public sealed class PyroscopeQueryTests(PyroscopeQueryTests.ShopCollector shop) : IClassFixture<PyroscopeQueryTests.ShopCollector>
{
    private const string CpuNanoseconds = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";
    private const string CpuSamples = "process_cpu:samples:count:cpu:nanoseconds";
    private const string Querier = "querier.v1.QuerierService/";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProfileTypes_ListsEverySampleTypeOfEverySeries(bool json)
    {
        var response = await Client(json).CallAsync(Querier + "ProfileTypes", new ProfileTypesRequest(), ProfileTypesResponse.Parser);

        Assert.Equal(
            [CpuNanoseconds, CpuSamples, "wall:wall:nanoseconds:cpu:nanoseconds"],
            response.ProfileTypes.Select(t => t.ID));
        var cpu = response.ProfileTypes[0];
        Assert.Equal(("process_cpu", "cpu", "nanoseconds", "cpu", "nanoseconds"), (cpu.Name, cpu.SampleType, cpu.SampleUnit, cpu.PeriodType, cpu.PeriodUnit));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LabelNamesAndValues_ListWhatTheMatchedSeriesCarry(bool json)
    {
        var client = Client(json);

        var names = await client.CallAsync(Querier + "LabelNames", new LabelNamesRequest { Matchers = { "{service_name=\"shop\"}" } }, LabelNamesResponse.Parser);
        var pods = await client.CallAsync(Querier + "LabelValues", new LabelValuesRequest { Name = "pod" }, LabelValuesResponse.Parser);
        var services = await client.CallAsync(Querier + "LabelValues", new LabelValuesRequest { Name = "service_name" }, LabelValuesResponse.Parser);

        Assert.Equal(["__name__", "__period_type__", "__period_unit__", "__profile_type__", "__type__", "__unit__", "pod", "pyroscope_spy", "service_name"], names.Names);
        Assert.Equal(["a", "b", "c"], pods.Names);
        Assert.Equal(["shop", "tool"], services.Names);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Series_ListsEachLabelSetOnce_WhenOnlySomeLabelNamesAreAsked(bool json)
    {
        var request = new SeriesRequest { Matchers = { $"{{service_name=\"shop\", __profile_type__=\"{CpuNanoseconds}\"}}" } };
        var all = await Client(json).CallAsync(Querier + "Series", request, SeriesResponse.Parser);
        request.LabelNames.Add("pod");
        var pods = await Client(json).CallAsync(Querier + "Series", request, SeriesResponse.Parser);

        Assert.Equal(3, all.LabelsSet.Count);
        Assert.All(all.LabelsSet, s => Assert.Contains(s.Labels_, l => l.Name == "__name__" && l.Value == "process_cpu"));
        Assert.Equal(["a", "b", "c"], pods.LabelsSet.Select(s => Assert.Single(s.Labels_).Value));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SelectMergeProfile_EqualsProfefesMerge_ForTheSelectedSampleType(bool json)
    {
        var response = await Client(json).CallAsync(Querier + "SelectMergeProfile", Select(CpuNanoseconds, "{service_name=\"shop\"}"), Profefe.Server.Pyroscope.Protos.Pprof.Profile.Parser);

        var merged = await shop.ProfefeMergeAsync("a", "b", "c");
        var profile = ProfileDecoder.Decode(response.ToByteArray());
        Assert.Equal([new SampleType("cpu", "nanoseconds")], profile.SampleTypes);
        Assert.Equal(StoredProfiles.Stacks(merged, StoredProfiles.IndexOf(merged, "cpu", "nanoseconds")), StoredProfiles.Stacks(profile, 0));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SelectMergeStacktraces_FlameGraphAddsUpToProfefesMerge(bool json)
    {
        var request = new SelectMergeStacktracesRequest { ProfileTypeID = CpuSamples, LabelSelector = "{service_name=\"shop\"}" };

        var response = await Client(json).CallAsync(Querier + "SelectMergeStacktraces", request, SelectMergeStacktracesResponse.Parser);

        var merged = await shop.ProfefeMergeAsync("a", "b", "c");
        var stacks = StoredProfiles.Stacks(merged, StoredProfiles.IndexOf(merged, "samples", "count"));
        var graph = response.Flamegraph;
        Assert.Equal(stacks.Values.Sum(), graph.Total);
        Assert.Equal("total", graph.Names[0]);
        Assert.Equal(SelfByLeaf(stacks), SelfByName(graph.Names, graph.Levels, 4, 2));
        Assert.Equal(graph.Levels.SelectMany(l => Nodes(l, 4)).Max(n => n[2]), graph.MaxSelf);

        // The widest frame below the root is the merge's heaviest root frame, and offsets keep every level inside the root.
        var heaviestRoot = stacks.GroupBy(s => s.Key.Split(';')[0]).MaxBy(g => g.Sum(s => s.Value))!.Key;
        Assert.Equal(heaviestRoot, graph.Names[(int)Nodes(graph.Levels[1], 4).MaxBy(n => n[1])![3]]);
        Assert.All(graph.Levels, level => Assert.True(Nodes(level, 4).Sum(n => n[0] + n[1]) <= graph.Total));
    }

    [Fact]
    public async Task SelectMergeStacktraces_KeepsAtMostMaxNodes_WithOtherNodesSummingTheRest()
    {
        var request = new SelectMergeStacktracesRequest { ProfileTypeID = CpuNanoseconds, LabelSelector = "{}", MaxNodes = 10 };

        var response = await Client(false).CallAsync(Querier + "SelectMergeStacktraces", request, SelectMergeStacktracesResponse.Parser);

        var nodes = response.Flamegraph.Levels.Sum(l => l.Values.Count / 4);
        Assert.InRange(nodes, 2, 10);
        Assert.Contains("other", response.Flamegraph.Names);
        Assert.Equal(response.Flamegraph.Total, Nodes(response.Flamegraph.Levels[1], 4).Sum(n => n[1]) + Nodes(response.Flamegraph.Levels[0], 4).Single()[2]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SelectMergeStacktraces_TreeAndPprofFormatsCarryTheMergedStacks(bool json)
    {
        var client = Client(json);
        var tree = await client.CallAsync(Querier + "SelectMergeStacktraces", new SelectMergeStacktracesRequest
        {
            ProfileTypeID = CpuNanoseconds,
            LabelSelector = "{pod=\"a\"}",
            Format = ProfileFormat.Tree,
        }, SelectMergeStacktracesResponse.Parser);
        var pprof = await client.CallAsync(Querier + "SelectMergeStacktraces", new SelectMergeStacktracesRequest
        {
            ProfileTypeID = CpuNanoseconds,
            LabelSelector = "{pod=\"a\"}",
            Format = ProfileFormat.Pprof,
        }, SelectMergeStacktracesResponse.Parser);

        var merged = await shop.ProfefeMergeAsync("a");
        var stacks = StoredProfiles.Stacks(merged, StoredProfiles.IndexOf(merged, "cpu", "nanoseconds"));
        Assert.Equal(stacks, DecodeTree(tree.Tree.ToByteArray()));
        Assert.Equal(stacks, StoredProfiles.Stacks(ProfileDecoder.Decode(pprof.Pprof.Profile.ToByteArray()), 0));
    }

    [Theory]
    [InlineData("{pod=~\"a|b\"}", new[] { "a", "b" })]
    [InlineData("{pod!=\"b\"}", new[] { "a", "c" })]
    [InlineData("{pod!~\"[ab]\", service_name=\"shop\"}", new[] { "c" })]
    [InlineData("{service_name=~\"sh.*\", pod=\"b\"}", new[] { "b" })]
    public async Task SelectMergeProfile_SelectsWithPromQlMatchers(string selector, string[] pods)
    {
        var response = await Client(false).CallAsync(Querier + "SelectMergeProfile", Select(CpuNanoseconds, selector), Profefe.Server.Pyroscope.Protos.Pprof.Profile.Parser);

        var merged = await shop.ProfefeMergeAsync(pods);
        Assert.Equal(StoredProfiles.Stacks(merged, StoredProfiles.IndexOf(merged, "cpu", "nanoseconds")), StoredProfiles.Stacks(ProfileDecoder.Decode(response.ToByteArray()), 0));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SelectSeries_SumsTotalsPerStepAndGroup(bool json)
    {
        var client = Client(json);
        var request = new SelectSeriesRequest { ProfileTypeID = CpuNanoseconds, LabelSelector = "{service_name=\"shop\"}", Start = 1, End = 4_000_000_000_000, Step = 3600 };

        var one = await client.CallAsync(Querier + "SelectSeries", request, SelectSeriesResponse.Parser);
        request.GroupBy.Add("pod");
        var byPod = await client.CallAsync(Querier + "SelectSeries", request, SelectSeriesResponse.Parser);
        request.Limit = 1;
        var top = await client.CallAsync(Querier + "SelectSeries", request, SelectSeriesResponse.Parser);
        request.ClearLimit();
        request.Aggregation = TimeSeriesAggregationType.Average;
        var average = await client.CallAsync(Querier + "SelectSeries", request, SelectSeriesResponse.Parser);

        var totals = new Dictionary<string, double>();
        foreach (var pod in new[] { "a", "b", "c" })
        {
            var merged = await shop.ProfefeMergeAsync(pod);
            totals[pod] = StoredProfiles.Total(merged, StoredProfiles.IndexOf(merged, "cpu", "nanoseconds"));
        }

        Assert.Empty(Assert.Single(one.Series).Labels);
        Assert.Equal(totals.Values.Sum(), one.Series[0].Points.Sum(p => p.Value));
        Assert.All(one.Series[0].Points, p => Assert.Equal(0, (p.Timestamp - 1) % 3_600_000));
        Assert.Equal(totals, byPod.Series.ToDictionary(s => Assert.Single(s.Labels).Value, s => s.Points.Sum(p => p.Value)));
        Assert.Equal(totals.MaxBy(t => t.Value).Key, Assert.Single(top.Series).Labels[0].Value);
        Assert.Equal(totals, average.Series.ToDictionary(s => s.Labels[0].Value, s => s.Points.Sum(p => p.Value)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Diff_CarriesBothSidesTotals(bool json)
    {
        var request = new DiffRequest
        {
            Left = new SelectMergeStacktracesRequest { ProfileTypeID = CpuNanoseconds, LabelSelector = "{pod=\"a\"}" },
            Right = new SelectMergeStacktracesRequest { ProfileTypeID = CpuNanoseconds, LabelSelector = "{pod=\"b\"}" },
        };

        var response = await Client(json).CallAsync(Querier + "Diff", request, DiffResponse.Parser);

        var left = await shop.ProfefeMergeAsync("a");
        var right = await shop.ProfefeMergeAsync("b");
        var graph = response.Flamegraph;
        Assert.Equal(StoredProfiles.Total(left, StoredProfiles.IndexOf(left, "cpu", "nanoseconds")), graph.LeftTicks);
        Assert.Equal(StoredProfiles.Total(right, StoredProfiles.IndexOf(right, "cpu", "nanoseconds")), graph.RightTicks);
        Assert.Equal(graph.LeftTicks + graph.RightTicks, graph.Total);
        Assert.Equal(SelfByLeaf(StoredProfiles.Stacks(left, StoredProfiles.IndexOf(left, "cpu", "nanoseconds"))), SelfByName(graph.Names, graph.Levels, 7, 2));
        Assert.Equal(SelfByLeaf(StoredProfiles.Stacks(right, StoredProfiles.IndexOf(right, "cpu", "nanoseconds"))), SelfByName(graph.Names, graph.Levels, 7, 5));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetProfileStats_SaysDataCameAndItsTimeRange(bool json)
    {
        var response = await Client(json).CallAsync(Querier + "GetProfileStats", new GetProfileStatsRequest(), GetProfileStatsResponse.Parser);

        Assert.True(response.DataIngested);
        Assert.True(response.OldestProfileTime > 0);
        Assert.True(response.OldestProfileTime <= response.NewestProfileTime);
    }

    [Fact]
    public async Task Render_AnswersFlamebearerWithTimeline_ForAProfileTypeAndSelector()
    {
        var query = Uri.EscapeDataString(CpuNanoseconds + "{service_name=\"shop\",pod=\"c\"}");

        using var response = await shop.Collector.Client.GetAsync($"pyroscope/render?query={query}&from=1&until=now&format=json", Cancel);

        var text = await response.Content.ReadAsStringAsync(Cancel);
        Assert.Equal(200, (int)response.StatusCode);
        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        var merged = await shop.ProfefeMergeAsync("c");
        var total = StoredProfiles.Total(merged, StoredProfiles.IndexOf(merged, "cpu", "nanoseconds"));
        Assert.Equal(total, root.GetProperty("flamebearer").GetProperty("numTicks").GetInt64());
        Assert.Equal("single", root.GetProperty("metadata").GetProperty("format").GetString());
        Assert.Equal(total, root.GetProperty("timeline").GetProperty("samples").EnumerateArray().Sum(s => s.GetInt64()));
    }

    [Fact]
    public async Task RenderDiff_AnswersDoubleFlamebearer_WithBothSidesTicks()
    {
        var left = Uri.EscapeDataString(CpuNanoseconds + "{pod=\"a\"}");
        var right = Uri.EscapeDataString(CpuNanoseconds + "{pod=\"c\"}");

        using var response = await shop.Collector.Client.GetAsync($"pyroscope/render-diff?leftQuery={left}&leftFrom=1&leftUntil=now&rightQuery={right}&rightFrom=1&rightUntil=now", Cancel);

        var text = await response.Content.ReadAsStringAsync(Cancel);
        Assert.Equal(200, (int)response.StatusCode);
        using var document = JsonDocument.Parse(text);
        var a = await shop.ProfefeMergeAsync("a");
        var c = await shop.ProfefeMergeAsync("c");
        Assert.Equal("double", document.RootElement.GetProperty("metadata").GetProperty("format").GetString());
        Assert.Equal(StoredProfiles.Total(a, StoredProfiles.IndexOf(a, "cpu", "nanoseconds")), document.RootElement.GetProperty("leftTicks").GetInt64());
        Assert.Equal(StoredProfiles.Total(c, StoredProfiles.IndexOf(c, "cpu", "nanoseconds")), document.RootElement.GetProperty("rightTicks").GetInt64());
    }

    [Fact]
    public async Task Push_TakesJsonAndGzip_LikeBinary()
    {
        await using var collector = await TestCollector.StartAsync();
        var data = TestData.Read("go/cpu_math_01.pb.gz");
        var request = ShopCollector.PushRequestFor("math", "z", data);
        using var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(System.Text.Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(request)));
        }

        using var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        using var response = await collector.Client.PostAsync("push.v1.PusherService/Push", content, Cancel);

        Assert.Equal(200, (int)response.StatusCode);
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
        Assert.Empty(answer.RootElement.EnumerateObject());
        var stored = Assert.Single(await StoredProfiles.FindAsync(collector.Client, "math", "cpu"));
        Assert.Equal("z", stored.Labels["pod"]);
    }

    private PyroscopeClient Client(bool json) => new(shop.Collector.Client, json);

    private static SelectMergeProfileRequest Select(string type, string selector) => new() { ProfileTypeID = type, LabelSelector = selector };

    private static IEnumerable<long[]> Nodes(Level level, int stride) => level.Values.Chunk(stride);

    private static Dictionary<string, long> SelfByName(Google.Protobuf.Collections.RepeatedField<string> names, IEnumerable<Level> levels, int stride, int selfIndex)
    {
        var self = new Dictionary<string, long>();
        foreach (var node in levels.SelectMany(l => Nodes(l, stride)))
        {
            var name = names[(int)node[stride - 1]];
            if (node[selfIndex] != 0)
            {
                self[name] = self.GetValueOrDefault(name) + node[selfIndex];
            }
        }

        return self;
    }

    private static Dictionary<string, long> SelfByLeaf(Dictionary<string, long> stacks)
    {
        var self = new Dictionary<string, long>();
        foreach (var (stack, value) in stacks)
        {
            var leaf = stack.Split(';')[^1];
            self[leaf] = self.GetValueOrDefault(leaf) + value;
        }

        return self;
    }

    /// <summary>Reads Pyroscope's tree bytes back into stacks (the format's reader, written from its description).</summary>
    private static Dictionary<string, long> DecodeTree(byte[] bytes)
    {
        var stacks = new Dictionary<string, long>();
        var offset = 0;
        var path = new List<string>();
        var pending = new Stack<(int Depth, int Children)>();
        ulong Varint()
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = bytes[offset++];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
        }

        var depth = 0;
        while (offset < bytes.Length)
        {
            var length = (int)Varint();
            var name = System.Text.Encoding.UTF8.GetString(bytes, offset, length);
            offset += length;
            var self = (long)Varint();
            var children = (int)Varint();
            path.RemoveRange(depth, path.Count - depth);
            path.Add(name);
            if (self != 0)
            {
                var key = string.Join(";", path.Skip(1));
                stacks[key] = stacks.GetValueOrDefault(key) + self;
            }

            if (children > 0)
            {
                pending.Push((depth + 1, children));
            }

            if (pending.Count == 0)
            {
                break;
            }

            var (next, left) = pending.Pop();
            if (left > 1)
            {
                pending.Push((next, left - 1));
            }

            depth = next;
        }

        return stacks;
    }

    /// <summary>One collector holding shop's cpu profiles from all three ingest paths and a wall profile of another service.</summary>
    public sealed class ShopCollector : IAsyncLifetime
    {
        private readonly Dictionary<string, string> _idsByPod = [];

        internal TestCollector Collector { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            Collector = await TestCollector.StartAsync();
            var http = Collector.Client;
            var cancel = TestContext.Current.CancellationToken;

            using (var profefe = new ByteArrayContent(TestData.Read("go/cpu_json_01.pb.gz")))
            using (var response = await http.PostAsync("api/0/profiles?service=shop&type=cpu&labels=pod=a", profefe, cancel))
            {
                Assert.Equal(200, (int)response.StatusCode);
            }

            using (var ingest = new ByteArrayContent(TestData.Read("go/cpu_json_02.pb.gz")))
            using (var response = await PyroscopeClient.IngestAsync(http, "name=shop{pod=b}&format=pprof&spyName=gospy", ingest))
            {
                Assert.Equal(200, (int)response.StatusCode);
            }

            using (var push = await new PyroscopeClient(http, json: false).SendAsync("push.v1.PusherService/Push", PushRequestFor("shop", "c", TestData.Read("go/cpu_hash_01.pb.gz"))))
            {
                Assert.Equal(200, (int)push.StatusCode);
            }

            using (var wall = PyroscopeIngestTests.Text("main;sleep 3\n"))
            using (var response = await PyroscopeClient.IngestAsync(http, "name=tool.wall&from=1765000000", wall))
            {
                Assert.Equal(200, (int)response.StatusCode);
            }

            foreach (var stored in await StoredProfiles.FindAsync(http, "shop", "cpu"))
            {
                _idsByPod[stored.Labels["pod"]] = stored.Id;
            }

            Assert.Equal(3, _idsByPod.Count);
        }

        public ValueTask DisposeAsync() => Collector.DisposeAsync();

        /// <summary>profefe's own merge (GET /api/0/profiles/{id}+{id}…) of the pods' profiles.</summary>
        public Task<Profile> ProfefeMergeAsync(params string[] pods) =>
            StoredProfiles.DownloadAsync(Collector.Client, string.Join("+", pods.Select(p => _idsByPod[p])));

        internal static PushRequest PushRequestFor(string service, string pod, byte[] profile) => new()
        {
            Series =
            {
                new RawProfileSeries
                {
                    Labels =
                    {
                        new LabelPair { Name = "__name__", Value = "process_cpu" },
                        new LabelPair { Name = "service_name", Value = service },
                        new LabelPair { Name = "pod", Value = pod },
                        new LabelPair { Name = "__delta__", Value = "false" },
                    },
                    Samples = { new RawSample { RawProfile = ByteString.CopyFrom(profile), ID = Guid.NewGuid().ToString() } },
                },
            },
        };
    }
}
