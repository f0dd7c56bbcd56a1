using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Testing;
using Profefe.Testing.Servers;

namespace Profefe.Storage.Postgres.Tests;

public sealed class PostgresProfileStorageTests(PostgresServerFixture fixture)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DeleteProfilesStoredBefore_GoesByArrival_NotByTheAgentsCreatedAt()
    {
        await using var schema = new PostgresTestSchema(fixture.Require());
        await using var storage = new PostgresProfileStorage(schema.Options());
        var now = DateTime.UtcNow;
        var agentTime = new DateTime(2019, 6, 1, 10, 20, 30, DateTimeKind.Utc);
        var arrivedLongAgo = Meta(ProfileId.NewId(now.AddHours(-3)), agentTime);
        var arrivedJustNow = Meta(ProfileId.NewId(now), agentTime);
        var stampedByCollector = Meta(ProfileId.NewId(now.AddHours(-2)), now.AddHours(-2));
        foreach (var meta in new[] { arrivedLongAgo, arrivedJustNow, stampedByCollector })
        {
            await storage.WriteProfileAsync(meta, new byte[] { 1, 2, 3 }, Token);
        }

        Assert.Equal(2, await storage.DeleteProfilesStoredBeforeAsync(now.AddHours(-1), Token));

        var left = await storage.FindProfilesAsync(TenantId.Default, new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue), Token);
        Assert.Equal([arrivedJustNow.ProfileId], left.Select(m => m.ProfileId));
    }

    [Fact]
    public async Task TwoCollectors_SharingOneSchema_SeeEachOthersProfiles()
    {
        await using var schema = new PostgresTestSchema(fixture.Require());
        await using var first = new PostgresProfileStorage(schema.Options());
        await using var second = new PostgresProfileStorage(schema.Options());
        // Both create the schema at once, as collectors started together do; the advisory lock lets one win.
        await Task.WhenAll(first.InitializeAsync(Token), second.InitializeAsync(Token));
        var fromFirst = Meta(ProfileId.NewId(DateTime.UtcNow), DateTime.UtcNow, ("host", "a"));
        var fromSecond = Meta(ProfileId.NewId(DateTime.UtcNow), DateTime.UtcNow.AddSeconds(1), ("host", "b"));

        await first.WriteProfileAsync(fromFirst, new byte[] { 1 }, Token);
        await second.WriteProfileAsync(fromSecond, new byte[] { 2 }, Token);

        foreach (var storage in new[] { first, second })
        {
            var found = await storage.FindProfilesAsync(TenantId.Default, new ProfileQuery("svc", ProfileType.Cpu, [], DateTime.MinValue, DateTime.MaxValue), Token);
            Assert.Equal([fromFirst.ProfileId, fromSecond.ProfileId], found.Select(m => m.ProfileId));
            Assert.Equal(["a", "b"], Assert.Single(await storage.ListLabelsAsync(TenantId.Default, "svc", Token)).Values);
        }
    }

    [Fact]
    public async Task WriteProfile_SameIdTwice_IsRejectedAndKeepsTheFirst()
    {
        await using var schema = new PostgresTestSchema(fixture.Require());
        await using var storage = new PostgresProfileStorage(schema.Options());
        var meta = Meta(ProfileId.NewId(DateTime.UtcNow), DateTime.UtcNow, ("k", "v"));
        await storage.WriteProfileAsync(meta, new byte[] { 1 }, Token);

        await Assert.ThrowsAsync<InvalidOperationException>(() => storage.WriteProfileAsync(meta, new byte[] { 2 }, Token));

        var stored = new List<StoredProfile>();
        await foreach (var profile in storage.ListProfilesAsync(TenantId.Default, [meta.ProfileId], Token))
        {
            stored.Add(profile);
        }

        Assert.Equal(new byte[] { 1 }, Assert.Single(stored).Data.ToArray());
        var statistics = await storage.GetStatisticsAsync(Token);
        Assert.Equal(1, statistics.ProfileCount);
        Assert.True(statistics.BytesOnDisk > 0);
    }

    [Fact]
    public async Task Initialize_NewerSchemaVersion_IsRefused()
    {
        var server = fixture.Require();
        await using var schema = new PostgresTestSchema(server);
        await using (var storage = new PostgresProfileStorage(schema.Options()))
        {
            await storage.InitializeAsync(Token);
        }

        await using (var connection = new NpgsqlConnection(server.ConnectionString()))
        {
            await connection.OpenAsync(Token);
            await using var command = new NpgsqlCommand($"UPDATE \"{schema.Name}\".profefe_schema SET version = 99", connection);
            await command.ExecuteNonQueryAsync(Token);
        }

        await using var newer = new PostgresProfileStorage(schema.Options());
        var exception = await Assert.ThrowsAsync<NotSupportedException>(() => newer.InitializeAsync(Token));
        Assert.Contains("version 99", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_ServerUnreachable_ThrowStorageUnavailableNamingPostgres()
    {
        // Nothing listens on a port that was just free: connecting is refused at once.
        await using var storage = new PostgresProfileStorage(new PostgresStorageOptions
        {
            ConnectionString = $"Host=127.0.0.1;Port={FreePort.Next()};Database=postgres;Username=postgres",
            ConnectTimeout = TimeSpan.FromSeconds(2),
        });
        var meta = Meta(ProfileId.NewId(DateTime.UtcNow), DateTime.UtcNow);

        var write = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.WriteProfileAsync(meta, new byte[] { 1 }, Token));
        var find = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.FindProfilesAsync(TenantId.Default, new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue), Token));
        var services = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.ListServicesAsync(TenantId.Default, Token));

        Assert.All(new[] { write, find, services }, e => Assert.Equal("postgres", e.Dependency));
    }

    [Fact]
    public async Task Requests_ServerKilledThenRestarted_Answer503ThenRecover()
    {
        fixture.Require();
        // Its own server: killing the shared one would fail the tests running beside this one.
        PostgresServer server;
        try
        {
            server = await PostgresServer.StartAsync();
        }
        catch (InvalidOperationException exception)
        {
            ExternalDependency.Unavailable($"could not start PostgreSQL: {exception.Message}");
            return;
        }

        await using (server)
        {
            await using var storage = new PostgresProfileStorage(new PostgresStorageOptions
            {
                ConnectionString = server.ConnectionString(),
                Schema = "recovery",
                ConnectTimeout = TimeSpan.FromSeconds(2),
            });
            var before = Meta(ProfileId.NewId(DateTime.UtcNow), DateTime.UtcNow);
            await storage.WriteProfileAsync(before, new byte[] { 1 }, Token);

            await server.KillAsync();

            var during = Meta(ProfileId.NewId(DateTime.UtcNow), DateTime.UtcNow.AddSeconds(1));
            var write = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.WriteProfileAsync(during, new byte[] { 2 }, Token));
            Assert.Equal("postgres", write.Dependency);
            await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.ListServicesAsync(TenantId.Default, Token));

            await server.RestartAsync();

            var after = Meta(ProfileId.NewId(DateTime.UtcNow), DateTime.UtcNow.AddSeconds(2));
            await storage.WriteProfileAsync(after, new byte[] { 3 }, Token);
            var found = await storage.FindProfilesAsync(TenantId.Default, new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue), Token);
            // The write that failed left nothing behind.
            Assert.Equal([before.ProfileId, after.ProfileId], found.Select(m => m.ProfileId));
        }
    }

    [Fact]
    public async Task AddProfefePostgresStorage_BindsStoragePostgresSection()
    {
        var server = fixture.Require();
        await using var schema = new PostgresTestSchema(server);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Postgres:ConnectionString"] = server.ConnectionString(),
            ["Storage:Postgres:Schema"] = schema.Name,
            ["Storage:Postgres:CommandTimeout"] = "00:00:07",
        });
        builder.Services.AddProfefePostgresStorage();
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<PostgresStorageOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(7), options.CommandTimeout);
        var writer = host.Services.GetRequiredService<IProfileWriter>();
        Assert.Same(writer, host.Services.GetRequiredService<IProfileReader>());
        Assert.Same(writer, host.Services.GetRequiredService<IProfileRetention>());
        Assert.Equal(schema.Name, Assert.IsType<PostgresProfileStorage>(writer).Schema);
        Assert.Empty(await host.Services.GetRequiredService<IProfileReader>().ListServicesAsync(TenantId.Default, Token));
    }

    [Fact]
    public void AddProfefePostgresStorage_WithoutConnectionString_FailsAtStart()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddProfefePostgresStorage();
        using var host = builder.Build();

        var exception = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("ConnectionString", exception.Message, StringComparison.Ordinal);
    }

    private static ProfileMeta Meta(ProfileId id, DateTime createdAt, params (string Key, string Value)[] labels) =>
        new(id, ProfileType.Cpu, "svc", [.. labels.Select(l => new Label(l.Key, l.Value))], createdAt);
}
