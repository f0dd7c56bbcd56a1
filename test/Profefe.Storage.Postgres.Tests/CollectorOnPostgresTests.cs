using System.Net;
using Profefe.Testing;
using Profefe.Testing.Collectors;
using Profefe.Testing.Servers;
using Profefe.Testing.Storage;

namespace Profefe.Storage.Postgres.Tests;

/// <summary>The collector with Storage:Type=postgres, end to end over HTTP.</summary>
public sealed class CollectorOnPostgresTests(PostgresServerFixture fixture) : SharedStoreCollectorTests
{
    [Fact]
    public async Task Push_PostgresUnreachable_Answers503NamingPostgres()
    {
        await using var collector = await TestCollector.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:Type"] = "postgres",
            ["Storage:Postgres:ConnectionString"] = $"Host=127.0.0.1;Port={FreePort.Next()};Database=postgres;Username=postgres",
            ["Storage:Postgres:ConnectTimeout"] = "00:00:02",
        });

        using var push = await PushAsync(collector.Client, TestData.Read("go/cpu_hash_01.pb.gz"));
        var body = await push.Content.ReadAsStringAsync(Token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, push.StatusCode);
        Assert.Contains("postgres", body, StringComparison.Ordinal);
        using var services = await collector.Client.GetAsync("api/0/services", Token);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, services.StatusCode);
    }

    /// <summary>The second collector lists the first one's service.</summary>
    protected override Task<SharedStore> CreateStoreAsync()
    {
        var schema = new PostgresTestSchema(fixture.Require());
        return Task.FromResult(new SharedStore(schema.Settings(), async client =>
        {
            using var services = await client.GetAsync("api/0/services", Token);
            Assert.Equal("{\"code\":200,\"body\":[\"svc\"]}\n", await services.Content.ReadAsStringAsync(Token));
        }, schema));
    }
}
