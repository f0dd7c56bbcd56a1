using System.Net.Http.Headers;
using System.Text.Json;
using Google.Protobuf;
using Profefe.Server.Pyroscope.Protos.Push;
using Profefe.Server.Pyroscope.Protos.Querier;
using Profefe.Server.Pyroscope.Protos.Types;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Server.Tests.Pyroscope;

/// <summary>Bad input to every Pyroscope endpoint: a 4xx saying what is wrong, and nothing stored.</summary>
public sealed class PyroscopeBadInputTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("from=1765000000", "a 1\n", 400, "missing \"name\"")]
    [InlineData("name={pod=a}", "a 1\n", 400, "application name before '{' is empty")]
    [InlineData("name=app{pod=a", "a 1\n", 400, "must end with '}'")]
    [InlineData("name=app{po-d=a}", "a 1\n", 400, "label \"po-d=a\" is not name=value")]
    [InlineData("name=app{pod}", "a 1\n", 400, "label \"pod\" is not name=value")]
    [InlineData("name=app.bogus", "a 1\n", 400, "unknown profile type \"bogus\"")]
    [InlineData("name=app&from=yesterday", "a 1\n", 400, "bad \"from\" \"yesterday\"")]
    [InlineData("name=app&from=1765000010&until=1765000000", "a 1\n", 400, "is after \"until\"")]
    [InlineData("name=app&sampleRate=0", "a 1\n", 400, "bad \"sampleRate\" \"0\"")]
    [InlineData("name=app&aggregationType=max", "a 1\n", 400, "bad \"aggregationType\" \"max\"")]
    [InlineData("name=app&format=trie", "a 1\n", 400, "bad \"format\" \"trie\"")]
    [InlineData("name=app", "main;work twelve\n", 422, "line 1: want \"frame;frame;... <count>\"")]
    [InlineData("name=app", "main;work 1\nno-value-here\n", 422, "line 2:")]
    [InlineData("name=app&format=pprof", "not a profile", 422, "malformed pprof profile")]
    [InlineData("name=app&format=speedscope", "{\"$schema\":\"other\"}", 422, "not a speedscope file")]
    [InlineData("name=app&format=speedscope", "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"shared\":{\"frames\":[]},\"profiles\":[{\"type\":\"sampled\",\"unit\":\"milliseconds\",\"samples\":[[3]],\"weights\":[1]}]}", 422, "frame index 3 is outside shared.frames")]
    [InlineData("name=app&format=speedscope", "{not json", 422, "malformed speedscope file")]
    [InlineData("name=app&format=jfr", "jfr", 422, "format=jfr")]
    public async Task Ingest_RefusesWithReadableMessageAndStoresNothing_WhenInputIsBad(string query, string body, int status, string message)
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await PyroscopeClient.IngestAsync(collector.Client, query, PyroscopeIngestTests.Text(body));

        await AssertErrorAsync(response, status, "error", message);
        await StoredProfiles.AssertNothingStoredAsync(collector.Client);
    }

    [Fact]
    public async Task Ingest_Refuses422_WhenMultipartHasNoProfilePartOrBadConfig()
    {
        await using var collector = await TestCollector.StartAsync();
        using var noProfile = new MultipartFormDataContent { { new ByteArrayContent("x"u8.ToArray()), "other", "other" } };
        using var badConfig = PyroscopeIngestTests.Form(TestData.Read("go/heap_01.pb.gz"), "{not json");

        using var first = await PyroscopeClient.IngestAsync(collector.Client, "name=app", noProfile);
        using var second = await PyroscopeClient.IngestAsync(collector.Client, "name=app", badConfig);

        await AssertErrorAsync(first, 422, "error", "without a \"profile\" part");
        await AssertErrorAsync(second, 422, "error", "malformed \"sample_type_config\"");
        await StoredProfiles.AssertNothingStoredAsync(collector.Client);
    }

    [Fact]
    public async Task Ingest_Refuses413_WhenBodyExceedsMaxBodyBytes()
    {
        await using var collector = await TestCollector.StartAsync([new("Collector:MaxBodyBytes", "1000")]);

        using var response = await PyroscopeClient.IngestAsync(collector.Client, "name=app&format=pprof", new ByteArrayContent(TestData.Read("go/heap_01.pb.gz")));

        await AssertErrorAsync(response, 413, "error", "request body too large");
        await StoredProfiles.AssertNothingStoredAsync(collector.Client);
    }

    [Fact]
    public async Task Push_StoresNothing_WhenAnySeriesIsBad()
    {
        await using var collector = await TestCollector.StartAsync();
        var good = PyroscopeQueryTests.ShopCollector.PushRequestFor("shop", "a", TestData.Read("go/cpu_json_01.pb.gz"));
        var badProfile = good.Clone();
        badProfile.Series.Add(new RawProfileSeries
        {
            Labels = { new LabelPair { Name = "__name__", Value = "process_cpu" }, new LabelPair { Name = "service_name", Value = "shop" } },
            Samples = { new RawSample { RawProfile = ByteString.CopyFromUtf8("garbage") } },
        });
        var noName = good.Clone();
        noName.Series[0].Labels.RemoveAt(0);
        var badLabel = good.Clone();
        badLabel.Series[0].Labels.Add(new LabelPair { Name = "bad-name", Value = "x" });
        var client = new PyroscopeClient(collector.Client, json: false);

        using var first = await client.SendAsync("push.v1.PusherService/Push", badProfile);
        using var second = await client.SendAsync("push.v1.PusherService/Push", noName);
        using var third = await client.SendAsync("push.v1.PusherService/Push", badLabel);
        using var garbage = new ByteArrayContent([0xff, 0xff, 0xff]);
        garbage.Headers.ContentType = new MediaTypeHeaderValue("application/proto");
        using var fourth = await collector.Client.PostAsync("push.v1.PusherService/Push", garbage, Cancel);
        using var text = new StringContent("hello");
        using var fifth = await collector.Client.PostAsync("push.v1.PusherService/Push", text, Cancel);

        await AssertErrorAsync(first, 400, "message", "series 1 sample 0: malformed pprof profile");
        await AssertErrorAsync(second, 400, "message", "need a non-empty __name__");
        await AssertErrorAsync(third, 400, "message", "bad label name \"bad-name\"");
        await AssertErrorAsync(fourth, 400, "message", "malformed protobuf PushRequest");
        Assert.Equal(415, (int)fifth.StatusCode);
        await StoredProfiles.AssertNothingStoredAsync(collector.Client);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Queries_AnswerInvalidArgument_WhenSelectorTypeTimeOrStepIsBad(bool json)
    {
        await using var collector = await TestCollector.StartAsync();
        var client = new PyroscopeClient(collector.Client, json);
        const string Cpu = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";
        const string Querier = "querier.v1.QuerierService/";

        using var selector = await client.SendAsync(Querier + "SelectMergeStacktraces", new SelectMergeStacktracesRequest { ProfileTypeID = Cpu, LabelSelector = "{pod=a}" });
        using var regex = await client.SendAsync(Querier + "SelectMergeProfile", new SelectMergeProfileRequest { ProfileTypeID = Cpu, LabelSelector = "{pod=~\"(\"}" });
        using var type = await client.SendAsync(Querier + "SelectMergeStacktraces", new SelectMergeStacktracesRequest { ProfileTypeID = "process_cpu:cpu" });
        using var time = await client.SendAsync(Querier + "SelectSeries", new SelectSeriesRequest { ProfileTypeID = Cpu, Start = 2000, End = 1000, Step = 15 });
        using var step = await client.SendAsync(Querier + "SelectSeries", new SelectSeriesRequest { ProfileTypeID = Cpu, Start = 1000, End = 2000 });
        using var matcher = await client.SendAsync(Querier + "LabelNames", new LabelNamesRequest { Matchers = { "service_name=\"x\"" } });

        await AssertErrorAsync(selector, 400, "message", "expected a quoted value");
        await AssertErrorAsync(regex, 400, "message", "bad regular expression");
        await AssertErrorAsync(type, 400, "message", "bad profile type \"process_cpu:cpu\"");
        await AssertErrorAsync(time, 400, "message", "start (2000 ms) is after end (1000 ms)");
        await AssertErrorAsync(step, 400, "message", "bad step 0");
        await AssertErrorAsync(matcher, 400, "message", "parse error in label selector");
        foreach (var response in new[] { selector, regex, type, time, step, matcher })
        {
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
            Assert.Equal("invalid_argument", document.RootElement.GetProperty("code").GetString());
        }
    }

    [Theory]
    [InlineData("pyroscope/render?from=now-1h", "\"query\" is required")]
    [InlineData("pyroscope/render?query=%7Bservice_name%3D%22x%22%7D", "must name a profile type")]
    [InlineData("pyroscope/render?query=process_cpu%7B%7D", "bad profile type \"process_cpu\"")]
    [InlineData("pyroscope/render?query=process_cpu:cpu:nanoseconds:cpu:nanoseconds%7B%7D&from=last-week", "bad \"from\" \"last-week\"")]
    [InlineData("pyroscope/render-diff?leftQuery=process_cpu:cpu:nanoseconds:cpu:nanoseconds%7B%7D&rightQuery=memory:alloc_space:bytes:space:bytes%7B%7D", "profile types must match")]
    public async Task Render_AnswersInvalidArgument_WhenQueryIsBad(string url, string message)
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.Client.GetAsync(url, Cancel);

        await AssertErrorAsync(response, 400, "message", message);
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, int status, string field, string message)
    {
        var text = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True(status == (int)response.StatusCode, $"want {status}, got {(int)response.StatusCode}: {text}");
        using var document = JsonDocument.Parse(text);
        Assert.Contains(message, document.RootElement.GetProperty(field).GetString(), StringComparison.Ordinal);
    }
}
