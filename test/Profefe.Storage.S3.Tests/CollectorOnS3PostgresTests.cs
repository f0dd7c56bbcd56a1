using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Profefe.Testing;
using Profefe.Testing.Collectors;
using Profefe.Testing.Servers;
using Profefe.Testing.Storage;

namespace Profefe.Storage.S3.Tests;

/// <summary>The collector with Storage:Type=s3+postgres, end to end over HTTP.</summary>
public sealed class CollectorOnS3PostgresTests(PostgresServerFixture postgres, CephRgwServerFixture rgw)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwoCollectors_SharingBucketAndDatabase_AnswerForEachOthersProfiles()
    {
        var server = rgw.Require();
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), server);
        var settings = Settings(store, server, store.S3.Bucket);
        await using var first = await TestCollector.StartAsync(settings);
        await using var second = await TestCollector.StartAsync(settings);
        var data = TestData.Read("go/cpu_hash_01.pb.gz");

        using var push = await PushAsync(first.Client, data);
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
        Assert.Equal(0, await store.CountRowsAsync("profile_data"));
        using var health = await second.Client.GetAsync("health", Token);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Tenants_OnS3AndPostgres_SeeOnlyTheirOwnProfiles()
    {
        var server = rgw.Require();
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), server);
        await using var collector = await TestCollector.StartAsync(Settings(store, server, store.S3.Bucket));

        await TenantIsolationOverHttp.AssertKeptApartAsync(collector.Client, TestData.Read("go/cpu_hash_01.pb.gz"));
    }

    [Fact]
    public async Task Push_BucketMissing_Answers503NamingS3AndStoresNothing()
    {
        var server = rgw.Require();
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), server);
        await using var collector = await TestCollector.StartAsync(Settings(store, server, "missing-" + Guid.NewGuid().ToString("N")[..8]));

        using var push = await PushAsync(collector.Client, TestData.Read("go/cpu_hash_01.pb.gz"));
        var body = await push.Content.ReadAsStringAsync(Token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, push.StatusCode);
        Assert.StartsWith("service unavailable: s3 storage:", JsonDocument.Parse(body).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await store.CountRowsAsync("profiles"));
        using var health = await collector.Client.GetAsync("health", Token);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Contains("not ready: s3 storage", await health.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Settings(S3PostgresTestStore store, CephRgwServer server, string bucket) => new()
    {
        ["Storage:Type"] = "s3+postgres",
        ["Storage:Postgres:ConnectionString"] = store.Postgres().ConnectionString,
        ["Storage:Postgres:Schema"] = store.Schema,
        ["Storage:S3:ServiceUrl"] = server.ServiceUrl,
        ["Storage:S3:Bucket"] = bucket,
        ["Storage:S3:AccessKey"] = server.AccessKey,
        ["Storage:S3:SecretKey"] = server.SecretKey,
        ["Storage:S3:ForcePathStyle"] = "true",
        ["Storage:S3:MaxErrorRetry"] = "1",
    };

    private static JsonElement Body(string json) => JsonDocument.Parse(json).RootElement.GetProperty("body").Clone();

    private static async Task<HttpResponseMessage> PushAsync(HttpClient client, byte[] data)
    {
        using var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await client.PostAsync("api/0/profiles?service=svc&type=cpu&labels=region=eu,host=a", content, Token);
    }
}
