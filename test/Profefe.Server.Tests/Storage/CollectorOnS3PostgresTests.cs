using System.Net;
using System.Text.Json;
using Profefe.Testing;
using Profefe.Testing.Collectors;
using Profefe.Testing.Servers;
using Profefe.Testing.Storage;

namespace Profefe.Server.Tests.Storage;

/// <summary>The collector with Storage:Type=s3+postgres, end to end over HTTP.</summary>
[Collection(S3PostgresTests.Name)]
public sealed class CollectorOnS3PostgresTests(PostgresServerFixture postgres, CephRgwServerFixture rgw) : SharedStoreCollectorTests
{
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

    [Fact]
    public async Task PyroscopeQueries_ProfilesNotCutYet_AddsThemRawWithoutWaitingForTheCutter()
    {
        var server = rgw.Require();
        await using var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), server);
        await Pyroscope.PyroscopeEngineQueryTests.AssertUncutAddedRawAsync(Settings(store, server, store.S3.Bucket));
    }

    /// <summary>The bytes are in the bucket, none in PostgreSQL, and both dependencies answer.</summary>
    protected override async Task<SharedStore> CreateStoreAsync()
    {
        var server = rgw.Require();
        var store = await S3PostgresTestStore.CreateAsync(postgres.Require(), server);
        return new SharedStore(Settings(store, server, store.S3.Bucket), async client =>
        {
            Assert.Equal(0, await store.CountRowsAsync("profile_data"));
            using var health = await client.GetAsync("health", Token);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }, store);
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
}
