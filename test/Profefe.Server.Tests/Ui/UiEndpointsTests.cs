using System.Net;
using System.Text.Json;
using Profefe.Core.Views;
using Profefe.Pprof;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Server.Tests.Ui;

public sealed class UiEndpointsTests(UiCollectorFixture collector) : IClassFixture<UiCollectorFixture>
{
    [Fact]
    public async Task Root_RedirectsToTheUi()
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = collector.BaseAddress };

        using var response = await http.GetAsync("/", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/ui/", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task UiWithoutSlash_RedirectsToTheSlash()
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = collector.BaseAddress };

        using var withoutSlash = await http.GetAsync("/ui", TestContext.Current.CancellationToken);
        using var withSlash = await http.GetAsync("/ui/", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, withoutSlash.StatusCode);
        Assert.Equal("/ui/", withoutSlash.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, withSlash.StatusCode);
    }

    [Theory]
    [InlineData("/ui/", "text/html", "app.js")]
    [InlineData("/ui/app.js", "text/javascript", "renderProfile")]
    [InlineData("/ui/flame.js", "text/javascript", "class FlameGraph")]
    [InlineData("/ui/flame-layout.js", "text/javascript", "export function parentsOf")]
    [InlineData("/ui/top-table.js", "text/javascript", "export function topTable")]
    [InlineData("/ui/app.css", "text/css", ".flame")]
    public async Task Pages_AreServedFromTheAssembly(string path, string contentType, string content)
    {
        using var response = await collector.Http.GetAsync(path, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(content, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownPage_Answers404()
    {
        using var response = await collector.Http.GetAsync("/ui/nothing.js", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Profile_ReturnsTheFlameGraphAndTopTable_OfOneProfile()
    {
        var (file, id, _) = collector.Corpus[0];
        var profile = ProfileDecoder.Decode(TestData.Read("go/" + file + ".pb.gz"));
        var index = SampleTypeIndex.Resolve(profile, null);
        var expectedTop = TopTableBuilder.Build(profile, index);

        using var json = await GetJsonAsync("/api/ui/profile?id=" + id);

        var body = json.RootElement.GetProperty("body");
        Assert.Equal("cpu", body.GetProperty("sampleType").GetString());
        Assert.Equal(SampleTypeIndex.Total(profile, index), body.GetProperty("flame").GetProperty("total").GetInt64());
        var firstRow = body.GetProperty("top").GetProperty("rows")[0];
        Assert.Equal(expectedTop.Rows[0].Name, firstRow[0].GetString());
        Assert.Equal(expectedTop.Rows[0].Flat, firstRow[2].GetInt64());
        Assert.Equal(collector.BaseAddress + "api/0/profiles/" + id, body.GetProperty("download").GetString());
        Assert.Equal($"go tool pprof -http=: '{collector.BaseAddress}api/0/profiles/{id}'", body.GetProperty("pprofCommand").GetString());
    }

    [Fact]
    public async Task Flame_ReturnsTheFramesUnderAPath_InMoreDetailThanTheCappedGraph()
    {
        var profile = ProfileDecoder.Decode(TestData.Read("go/big_cpu_01.pb.gz"));
        var index = SampleTypeIndex.Resolve(profile, null);
        var whole = FlameGraphBuilder.Build(profile, index);
        Assert.True(whole.Truncated);
        var (name, total) = UiExpectations.WidestTopFrame(whole);
        var x = whole.Levels[1][UiExpectations.Names(whole, 1).IndexOf(name) * whole.Stride];
        var expected = FlameGraphBuilder.BuildSubtree(profile, index, [name]);

        using var json = await GetJsonAsync($"/api/ui/flame?id={collector.BigId}&focus={Uri.EscapeDataString(name)}");

        var body = json.RootElement.GetProperty("body");
        Assert.Equal([name], body.GetProperty("focus").EnumerateArray().Select(e => e.GetString()));
        var flame = body.GetProperty("flame");
        Assert.Equal(total, flame.GetProperty("total").GetInt64());
        Assert.Equal(expected.NodeCount, flame.GetProperty("nodeCount").GetInt32());
        var root = flame.GetProperty("levels")[0];
        Assert.Equal(name, flame.GetProperty("names")[root[3].GetInt32()].GetString());
        Assert.True(expected.NodeCount - 1 > UiExpectations.NodesBelow(whole, 1, x, total), "the frame's own graph should show more of it than the whole graph's cap left");
    }

    [Fact]
    public async Task Services_ListsEveryServiceSorted()
    {
        using var json = await GetJsonAsync("/api/ui/services");

        Assert.Equal(["big", "corpus", "mem"], json.RootElement.GetProperty("body").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Latest_AnswersNull_OnAnEmptyCollector()
    {
        await using var empty = await TestCollector.StartAsync();

        using var json = JsonDocument.Parse(await empty.Client.GetStringAsync("/api/ui/latest", TestContext.Current.CancellationToken));

        Assert.Equal(200, json.RootElement.GetProperty("code").GetInt32());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("body").ValueKind);
    }

    [Fact]
    public async Task Profile_MergesSeveralIds()
    {
        var first = collector.Corpus[0];
        var second = collector.Corpus[1];
        var merged = UiExpectations.Merge([first.File, second.File]);

        using var json = await GetJsonAsync($"/api/ui/profile?id={first.Id}+{second.Id}");

        var body = json.RootElement.GetProperty("body");
        Assert.Equal(2, body.GetProperty("profileCount").GetInt32());
        Assert.Equal(SampleTypeIndex.Total(merged, 1), body.GetProperty("flame").GetProperty("total").GetInt64());
        Assert.Equal($"{collector.BaseAddress}api/0/profiles/{first.Id}+{second.Id}", body.GetProperty("download").GetString());
    }

    [Fact]
    public async Task Profile_MergesWhatAQueryFinds_AndNamesTheMergeUrl()
    {
        var from = UiExpectations.Time(collector.Corpus[0].CreatedAt);
        var to = UiExpectations.Time(collector.Corpus[^1].CreatedAt.AddSeconds(1));
        var merged = UiExpectations.Merge(UiCollectorFixture.CorpusFiles);

        using var json = await GetJsonAsync($"/api/ui/profile?service=corpus&type=cpu&from={from}&to={to}&sample_type=samples");

        var body = json.RootElement.GetProperty("body");
        Assert.Equal(UiCollectorFixture.CorpusFiles.Length, body.GetProperty("profileCount").GetInt32());
        Assert.Equal("samples", body.GetProperty("sampleType").GetString());
        Assert.Equal(SampleTypeIndex.Total(merged, 0), body.GetProperty("flame").GetProperty("total").GetInt64());
        Assert.Equal($"{collector.BaseAddress}api/0/profiles/merge?service=corpus&type=cpu&from={from}&to={to}", body.GetProperty("download").GetString());
    }

    [Fact]
    public async Task Compare_ReturnsADiffWithBothSides()
    {
        var baseFile = collector.Corpus[0];
        var newFile = collector.Corpus[1];
        var baseProfile = ProfileDecoder.Decode(TestData.Read("go/" + baseFile.File + ".pb.gz"));
        var newProfile = ProfileDecoder.Decode(TestData.Read("go/" + newFile.File + ".pb.gz"));

        using var json = await GetJsonAsync($"/api/ui/compare?base_id={baseFile.Id}&new_id={newFile.Id}");

        var diff = json.RootElement.GetProperty("body").GetProperty("flame").GetProperty("diff");
        Assert.Equal(SampleTypeIndex.Total(baseProfile, 1), diff.GetProperty("baseTotal").GetInt64());
        Assert.Equal(SampleTypeIndex.Total(newProfile, 1), diff.GetProperty("newTotal").GetInt64());
    }

    [Fact]
    public async Task Timeline_ListsEveryProfileWithItsTotal()
    {
        var from = UiExpectations.Time(collector.Corpus[0].CreatedAt);
        var to = UiExpectations.Time(collector.Corpus[^1].CreatedAt.AddSeconds(1));

        using var json = await GetJsonAsync($"/api/ui/timeline?service=corpus&type=cpu&from={from}&to={to}");

        var body = json.RootElement.GetProperty("body");
        Assert.Equal("cpu", body.GetProperty("sampleType").GetString());
        var points = body.GetProperty("points");
        Assert.Equal(collector.Corpus.Count, points.GetArrayLength());
        for (var i = 0; i < collector.Corpus.Count; i++)
        {
            var profile = ProfileDecoder.Decode(TestData.Read("go/" + collector.Corpus[i].File + ".pb.gz"));
            Assert.Equal(collector.Corpus[i].Id, points[i].GetProperty("id").GetString());
            Assert.Equal(SampleTypeIndex.Total(profile, 1), points[i].GetProperty("total").GetInt64());
        }
    }

    [Theory]
    [InlineData("/api/ui/profile?id=notanid", 400, "bad request: bad \"id\" \"notanid\": not a profile id")]
    [InlineData("/api/ui/profile?service=corpus&type=cpu&from=2020-01-01T00:00:00&to=2020-01-02T00:00:00", 404, "nothing found")]
    [InlineData("/api/ui/profile?service=corpus&from=2020-01-01T00:00:00&to=2020-01-02T00:00:00", 405, "can't merge profiles of unknown type")]
    [InlineData("/api/ui/profile?id=d4vv4fd5lgr7ukiv3e00&max_nodes=0", 400, "bad request: bad \"max_nodes\" \"0\": want a whole number from 1 to 65536")]
    public async Task BadRequests_AnswerTheEnvelopeWithAReadableError(string path, int status, string error)
    {
        using var response = await collector.Http.GetAsync(path, TestContext.Current.CancellationToken);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(status, json.RootElement.GetProperty("code").GetInt32());
        Assert.Equal(error, json.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Profile_Answers400_ForAnUnknownSampleType()
    {
        using var response = await collector.Http.GetAsync($"/api/ui/profile?id={collector.Corpus[0].Id}&sample_type=alloc_space", TestContext.Current.CancellationToken);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("bad request: unknown sample type \"alloc_space\"; this profile has: samples, cpu", json.RootElement.GetProperty("error").GetString());
    }

    private async Task<JsonDocument> GetJsonAsync(string path)
    {
        using var response = await collector.Http.GetAsync(path, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text);
    }
}
