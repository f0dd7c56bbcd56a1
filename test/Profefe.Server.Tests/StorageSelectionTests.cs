using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Storage.Local;
using Profefe.Storage.Postgres;
using Profefe.Testing;
using Profefe.Testing.Collectors;
using Profefe.Testing.Servers;

namespace Profefe.Server.Tests;

/// <summary>Storage:Type: one backend, several (the multi-writer), and the errors for names it does not know.</summary>
[Collection(StoragePostgresTests.Name)]
public sealed class StorageSelectionTests(PostgresServerFixture fixture)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("s4", "unknown storage type \"s4\" (Storage:Type); supported: local, postgres, s3+postgres, s3, or several")]
    [InlineData("local,badger", "unknown storage type \"badger\"")]
    [InlineData("local,,postgres", "has an empty entry")]
    [InlineData("local, LOCAL", "names local twice")]
    [InlineData("s3+postgres,postgres", "postgres and s3+postgres share the Storage:Postgres schema")]
    public void Build_RejectsStorageTypes_ItDoesNotKnow(string type, string expected)
    {
        var error = Assert.Throws<InvalidOperationException>(() => CollectorHost.Build(new Dictionary<string, string?> { ["Storage:Type"] = type }));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseTypes_TrimsAndLowercases_AndDefaultsToLocal()
    {
        Assert.Equal(["local"], StorageServiceCollectionExtensions.ParseTypes(null));
        Assert.Equal(["local"], StorageServiceCollectionExtensions.ParseTypes("  "));
        Assert.Equal(["postgres", "local"], StorageServiceCollectionExtensions.ParseTypes(" Postgres , local "));
    }

    [Fact]
    public async Task Start_FailsValidation_WhenHealthTimeoutIsNotPositive()
    {
        await using var app = CollectorHost.Build(new Dictionary<string, string?>
        {
            ["Collector:Address"] = "127.0.0.1:0",
            ["Storage:Local:DataDirectory"] = Path.Combine(Path.GetTempPath(), "profefe-never-created-" + Guid.NewGuid().ToString("N")),
            ["Storage:HealthTimeout"] = "00:00:00",
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(Token));

        Assert.Contains("Storage:HealthTimeout is 00:00:00; it must be positive", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeveralTypes_StillValidateEachBackendsOptionsOnStart()
    {
        await using var app = CollectorHost.Build(new Dictionary<string, string?>
        {
            ["Collector:Address"] = "127.0.0.1:0",
            ["Storage:Type"] = "local,postgres",
            ["Storage:Local:DataDirectory"] = Path.Combine(Path.GetTempPath(), "profefe-never-created-" + Guid.NewGuid().ToString("N")),
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(Token));

        Assert.Contains("Storage:Postgres", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SingleType_RegistersThatBackendAsTheWholeSeam()
    {
        await using var collector = await TestCollector.StartAsync();

        var writer = collector.Services.GetRequiredService<IProfileWriter>();
        Assert.IsType<LocalProfileStorage>(writer);
        Assert.Same(writer, collector.Services.GetRequiredService<IProfileReader>());
        Assert.Same(writer, collector.Services.GetRequiredService<IProfileRetention>());
        Assert.Same(writer, collector.Services.GetRequiredService<IProfileStorageStatistics>());
    }

    [Fact]
    public async Task SeveralTypes_WriteToEveryOne_AndReadFromTheFirst()
    {
        await using var schema = new PostgresTestSchema(fixture.Require());
        await using var collector = await TestCollector.StartAsync(schema.Settings("postgres,local"));
        var multi = Assert.IsType<MultiProfileStorage>(collector.Services.GetRequiredService<IProfileWriter>());
        Assert.Same(multi, collector.Services.GetRequiredService<IProfileReader>());
        Assert.Same(multi, collector.Services.GetRequiredService<IProfileRetention>());
        Assert.Equal(["postgres", "local"], multi.Backends.Select(b => b.Name));
        var postgres = Assert.IsType<PostgresProfileStorage>(multi.Backends[0].Writer);
        var local = Assert.IsType<LocalProfileStorage>(multi.Backends[1].Writer);
        Assert.Same(postgres, collector.Services.GetRequiredService<IProfileStorageStatistics>());
        Assert.Equal(collector.DataDirectory, local.DataDirectory);

        using var push = await PushAsync(collector.Client);

        Assert.Equal(HttpStatusCode.OK, push.StatusCode);
        Assert.Equal(["svc"], await postgres.ListServicesAsync(TenantId.Default, Token));
        Assert.Equal(["svc"], await local.ListServicesAsync(TenantId.Default, Token));
        using var health = await collector.Client.GetAsync("health", Token);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task SeveralTypes_OneUnreachable_PushAndHealthAnswer503NamingIt_TheOtherKeepsTheProfile()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Storage:Type"] = "local,postgres",
            ["Storage:Postgres:ConnectionString"] = $"Host=127.0.0.1;Port={FreePort.Next()};Database=postgres;Username=postgres",
            ["Storage:Postgres:ConnectTimeout"] = "00:00:02",
        };
        await using var collector = await TestCollector.StartAsync(settings);

        using var push = await PushAsync(collector.Client);
        using var health = await collector.Client.GetAsync("health", Token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, push.StatusCode);
        Assert.StartsWith("{\"code\":503,\"error\":\"service unavailable: postgres storage: ", await push.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.StartsWith("{\"code\":503,\"error\":\"not ready: postgres storage: ", await health.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        // Reads come from the embedded store, which answers; it holds the profile the failed request wrote.
        using var services = await collector.Client.GetAsync("api/0/services", Token);
        Assert.Equal("{\"code\":200,\"body\":[\"svc\"]}\n", await services.Content.ReadAsStringAsync(Token));
    }

    private static async Task<HttpResponseMessage> PushAsync(HttpClient client)
    {
        using var content = new ByteArrayContent(TestData.Read("go/cpu_hash_01.pb.gz"));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await client.PostAsync("api/0/profiles?service=svc&type=cpu&labels=k=v", content, Token);
    }
}
