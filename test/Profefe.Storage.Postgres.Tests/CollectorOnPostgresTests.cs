using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Profefe.Testing;
using Profefe.Testing.Collectors;
using Profefe.Testing.Servers;
using Profefe.Testing.Storage;

namespace Profefe.Storage.Postgres.Tests;

/// <summary>The collector with Storage:Type=postgres, end to end over HTTP.</summary>
public sealed class CollectorOnPostgresTests(PostgresServerFixture fixture)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwoCollectors_SharingOneDatabase_AnswerForEachOthersProfiles()
    {
        var server = fixture.Require();
        await using var schema = new PostgresTestSchema(server);
        var settings = new Dictionary<string, string?>
        {
            ["Storage:Type"] = "postgres",
            ["Storage:Postgres:ConnectionString"] = server.ConnectionString(),
            ["Storage:Postgres:Schema"] = schema.Name,
        };
        await using var first = await TestCollector.StartAsync(settings);
        await using var second = await TestCollector.StartAsync(settings);
        var data = TestData.Read("go/cpu_hash_01.pb.gz");

        using var push = await PushAsync(first.Client, "svc", "cpu", data, "region=eu,host=a");
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
        using var services = await second.Client.GetAsync("api/0/services", Token);
        Assert.Equal("{\"code\":200,\"body\":[\"svc\"]}\n", await services.Content.ReadAsStringAsync(Token));
    }

    [Fact]
    public async Task Tenants_OnPostgres_SeeOnlyTheirOwnProfiles()
    {
        var server = fixture.Require();
        await using var schema = new PostgresTestSchema(server);
        await using var collector = await TestCollector.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:Type"] = "postgres",
            ["Storage:Postgres:ConnectionString"] = server.ConnectionString(),
            ["Storage:Postgres:Schema"] = schema.Name,
        });

        await TenantIsolationOverHttp.AssertKeptApartAsync(collector.Client, TestData.Read("go/cpu_hash_01.pb.gz"));
    }

    [Fact]
    public async Task Push_PostgresUnreachable_Answers503NamingPostgres()
    {
        await using var collector = await TestCollector.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:Type"] = "postgres",
            ["Storage:Postgres:ConnectionString"] = $"Host=127.0.0.1;Port={FreePort.Next()};Database=postgres;Username=postgres",
            ["Storage:Postgres:ConnectTimeout"] = "00:00:02",
        });

        using var push = await PushAsync(collector.Client, "svc", "cpu", TestData.Read("go/cpu_hash_01.pb.gz"), null);
        var body = await push.Content.ReadAsStringAsync(Token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, push.StatusCode);
        Assert.Contains("postgres", body, StringComparison.Ordinal);
        using var services = await collector.Client.GetAsync("api/0/services", Token);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, services.StatusCode);
    }

    private static JsonElement Body(string json) => JsonDocument.Parse(json).RootElement.GetProperty("body").Clone();

    private static async Task<HttpResponseMessage> PushAsync(HttpClient client, string service, string type, byte[] data, string? labels)
    {
        using var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var url = $"api/0/profiles?service={service}&type={type}" + (labels is null ? "" : "&labels=" + labels);
        return await client.PostAsync(url, content, Token);
    }
}
