using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Profefe.Testing.Collectors;

namespace Profefe.Testing.Storage;

/// <summary>
/// The collector on a store that several collectors share (Storage:Type postgres, s3+postgres), end to end over
/// HTTP. A backend's test class derives from this and says how to make a fresh store and what else to check.
/// </summary>
public abstract class SharedStoreCollectorTests
{
    protected static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwoCollectors_SharingOneStore_AnswerForEachOthersProfiles()
    {
        await using var store = await CreateStoreAsync();
        await using var first = await TestCollector.StartAsync(store.Settings);
        await using var second = await TestCollector.StartAsync(store.Settings);

        using var push = await PushAsync(first.Client, TestData.Read("go/cpu_hash_01.pb.gz"));
        var pushed = await push.Content.ReadAsStringAsync(Token);
        Assert.True(push.StatusCode == HttpStatusCode.OK, pushed);
        var id = Body(pushed).GetProperty("id").GetString()!;

        using var find = await second.Client.GetAsync("api/0/profiles?service=svc&type=cpu&labels=region=eu&from=2000-01-01T00:00:00&to=2100-01-01T00:00:00", Token);
        var found = await find.Content.ReadAsStringAsync(Token);
        Assert.True(find.StatusCode == HttpStatusCode.OK, found);
        Assert.Equal(id, Assert.Single(Body(found).EnumerateArray().ToArray()).GetProperty("id").GetString());
        using var download = await second.Client.GetAsync("api/0/profiles/" + id, Token);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.NotEmpty(await download.Content.ReadAsByteArrayAsync(Token));
        await store.AssertSharedAsync(second.Client);
    }

    [Fact]
    public async Task Tenants_OnSharedStore_SeeOnlyTheirOwnProfiles()
    {
        await using var store = await CreateStoreAsync();
        await using var collector = await TestCollector.StartAsync(store.Settings);

        await TenantIsolationOverHttp.AssertKeptApartAsync(collector.Client, TestData.Read("go/cpu_hash_01.pb.gz"));
    }

    /// <summary>A fresh, empty store and the collector settings that select it.</summary>
    protected abstract Task<SharedStore> CreateStoreAsync();

    /// <summary>Pushes <paramref name="data"/> as service svc, type cpu, labels region=eu,host=a.</summary>
    protected static async Task<HttpResponseMessage> PushAsync(HttpClient client, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await client.PostAsync("api/0/profiles?service=svc&type=cpu&labels=region=eu,host=a", content, Token);
    }

    private static JsonElement Body(string json) => JsonDocument.Parse(json).RootElement.GetProperty("body").Clone();

    /// <summary>
    /// A store under test: the settings that select it, what else to check once a second collector has read the
    /// first one's profile, and how to drop it.
    /// </summary>
    protected sealed class SharedStore(Dictionary<string, string?> settings, Func<HttpClient, Task> assertShared, IAsyncDisposable owner) : IAsyncDisposable
    {
        public Dictionary<string, string?> Settings => settings;

        public Task AssertSharedAsync(HttpClient client) => assertShared(client);

        public ValueTask DisposeAsync() => owner.DisposeAsync();
    }
}
