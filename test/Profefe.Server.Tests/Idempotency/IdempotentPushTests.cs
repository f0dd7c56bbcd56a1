using System.Net.Http.Headers;
using System.Text.Json;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Server.Tests.Idempotency;

public sealed class IdempotentPushTests
{
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
