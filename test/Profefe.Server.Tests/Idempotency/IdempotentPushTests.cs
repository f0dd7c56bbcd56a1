using System.Net.Http.Headers;
using System.Text.Json;
using Google.Protobuf;
using Profefe.Server.Pyroscope.Protos.Push;
using Profefe.Server.Pyroscope.Protos.Types;
using Profefe.Server.Tests.Pyroscope;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Server.Tests.Idempotency;

public sealed class IdempotentPushTests
{
    private const string Push = "push.v1.PusherService/Push";
    private const string Find = "api/0/profiles?service=svc1&from=2000-01-01T00:00:00&to=2100-01-01T00:00:00";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Push_StoresOneProfile_AndAnswersAsTheFirst_WhenRetriedWithTheSameIdempotencyKey()
    {
        await using var collector = await TestCollector.StartAsync();
        var data = TestData.Read("profefe/collector_cpu_1.prof");

        var (firstStatus, first, firstReplayed) = await PushWithKeyAsync(collector, data, "push-1");
        var retries = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => PushWithKeyAsync(collector, data, "push-1")));
        var (_, other, _) = await PushWithKeyAsync(collector, data, "push-2");

        Assert.Equal(200, firstStatus);
        Assert.False(firstReplayed);
        Assert.All(retries, retry => Assert.Equal((200, first, true), retry));
        Assert.NotEqual(first, other);
        Assert.Equal(2, await CountStoredAsync(collector));
    }

    [Fact]
    public async Task Push_Answers422AndStoresNothing_WhenTheKeyWasUsedForADifferentPush()
    {
        await using var collector = await TestCollector.StartAsync();
        await PushWithKeyAsync(collector, TestData.Read("profefe/collector_cpu_1.prof"), "push-1");

        var (status, body, _) = await PushWithKeyAsync(collector, TestData.Read("profefe/collector_cpu_2.prof"), "push-1");

        Assert.Equal(422, status);
        Assert.Contains("Idempotency-Key \\\"push-1\\\" was used for a different push", body, StringComparison.Ordinal);
        Assert.Equal(1, await CountStoredAsync(collector));
    }

    [Theory]
    [InlineData("")]
    [InlineData("tab\there")]
    public async Task Push_Answers400_WhenTheKeyIsUnusable(string key)
    {
        await using var collector = await TestCollector.StartAsync();

        var (status, _, _) = await PushWithKeyAsync(collector, TestData.Read("profefe/collector_cpu_1.prof"), key);

        Assert.Equal(400, status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PyroscopePush_StoresOneProfile_WhenASampleIsRetriedWithTheSameId(bool json)
    {
        await using var collector = await TestCollector.StartAsync();
        var client = new PyroscopeClient(collector.Client, json);
        var data = TestData.Read("go/cpu_hash_01.pb.gz");

        var statuses = new List<int>();
        foreach (var _ in Enumerable.Range(0, 3))
        {
            using var retry = await client.SendAsync(Push, PushOf(data, "sample-1"));
            statuses.Add((int)retry.StatusCode);
        }

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var response = await client.SendAsync(Push, PushOf(data, "sample-1"));
            return (int)response.StatusCode;
        }));
        using var other = await client.SendAsync(Push, PushOf(data, "sample-2"));

        Assert.All(statuses.Concat(concurrent), status => Assert.Equal(200, status));
        Assert.Equal(200, (int)other.StatusCode);
        Assert.Equal(2, (await StoredProfiles.FindAsync(collector.Client, "shop")).Count);
    }

    [Fact]
    public async Task PyroscopePush_StoresEverySample_WhenSamplesHaveNoId()
    {
        await using var collector = await TestCollector.StartAsync();
        var client = new PyroscopeClient(collector.Client, json: false);
        var data = TestData.Read("go/cpu_hash_01.pb.gz");

        using var first = await client.SendAsync(Push, PushOf(data, ""));
        using var second = await client.SendAsync(Push, PushOf(data, ""));

        Assert.Equal(200, (int)second.StatusCode);
        Assert.Equal(2, (await StoredProfiles.FindAsync(collector.Client, "shop")).Count);
    }

    [Fact]
    public async Task PyroscopePush_AnswersInvalidArgumentAndStoresNothingNew_WhenTheSampleIdWasUsedForADifferentProfile()
    {
        await using var collector = await TestCollector.StartAsync();
        var client = new PyroscopeClient(collector.Client, json: false);
        using var first = await client.SendAsync(Push, PushOf(TestData.Read("go/cpu_hash_01.pb.gz"), "sample-1"));

        using var reused = await client.SendAsync(Push, PushOf(TestData.Read("go/cpu_hash_02.pb.gz"), "sample-1"));
        using var badId = await client.SendAsync(Push, PushOf(TestData.Read("go/cpu_hash_02.pb.gz"), "tab\there"));

        // Connect has no 422: profefe's 4xx answers go out as invalid_argument (400).
        Assert.Equal(400, (int)reused.StatusCode);
        Assert.Contains("Push sample ID \\\"sample-1\\\" was used for a different push", await reused.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);
        Assert.Equal(400, (int)badId.StatusCode);
        Assert.Contains("series 0 sample 0: Push sample ID may only hold printable ASCII", await badId.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);
        Assert.Single(await StoredProfiles.FindAsync(collector.Client, "shop"));
    }

    [Fact]
    public async Task PyroscopeIngest_StoresOneProfile_WhenRetriedWithTheSameIdempotencyKey()
    {
        await using var collector = await TestCollector.StartAsync();
        var data = TestData.Read("go/cpu_hash_01.pb.gz");

        var statuses = new List<int>();
        foreach (var key in new[] { "upload-1", "upload-1", "upload-1", "upload-2" })
        {
            using var content = new ByteArrayContent(data);
            using var request = new HttpRequestMessage(HttpMethod.Post, "ingest?name=shop&format=pprof&from=1700000000&until=1700000010") { Content = content };
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
            using var response = await collector.Client.SendAsync(request, Cancel);
            statuses.Add((int)response.StatusCode);
        }

        Assert.All(statuses, status => Assert.Equal(200, status));
        Assert.Equal(2, (await StoredProfiles.FindAsync(collector.Client, "shop")).Count);
    }

    private static PushRequest PushOf(byte[] profile, string id) => new()
    {
        Series =
        {
            new RawProfileSeries
            {
                Labels =
                {
                    new LabelPair { Name = "__name__", Value = "process_cpu" },
                    new LabelPair { Name = "service_name", Value = "shop" },
                },
                Samples = { new RawSample { RawProfile = ByteString.CopyFrom(profile), ID = id } },
            },
        },
    };

    private static async Task<(int Status, string Body, bool Replayed)> PushWithKeyAsync(TestCollector collector, byte[] data, string key)
    {
        using var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/0/profiles?service=svc1&type=cpu&labels=k=v") { Content = content };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        using var response = await collector.Client.SendAsync(request, Cancel);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(Cancel), response.Headers.Contains("Idempotent-Replayed"));
    }

    private static async Task<int> CountStoredAsync(TestCollector collector)
    {
        using var response = await collector.Client.GetAsync(Find, Cancel);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
        return json.RootElement.GetProperty("body").GetArrayLength();
    }
}
