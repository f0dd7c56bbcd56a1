using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Profefe.Core;
using Profefe.Core.Engine;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Storage.Local.Engine;

namespace Profefe.Storage.Local.Tests;

public sealed class ProfileRetentionServiceTests
{
    private static readonly DateTime Now = new(2026, 3, 10, 12, 0, 0, DateTimeKind.Utc);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunOnce_DeletesProfilesOlderThanThePeriod()
    {
        await using var directory = new LocalStoreDirectory();
        await using var storage = new LocalProfileStorage(directory.Options());
        var old = Meta(Now.AddDays(-5).AddTicks(-1));
        var young = Meta(Now.AddDays(-5).AddMinutes(1));
        await storage.WriteProfileAsync(old, new byte[10], Token);
        await storage.WriteProfileAsync(young, new byte[10], Token);
        using var service = Service(storage, new RetentionOptions(), new FakeTimeProvider(Now));

        Assert.Equal(1, await service.RunOnceAsync(Token));

        var found = await storage.FindProfilesAsync(TenantId.Default, new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue), Token);
        Assert.Equal([young.ProfileId], found.Select(m => m.ProfileId));
    }

    [Fact]
    public async Task RunOnce_EngineCannotCatchUp_KeepsRawProfilesAsLongAsTheEngineWould()
    {
        await using var directory = new LocalStoreDirectory();
        await using var storage = new LocalProfileStorage(directory.Options());
        var past = Meta(Now.AddDays(-6));
        var uncut = Meta(Now.AddDays(-3));
        await storage.WriteProfileAsync(past, new byte[10], Token);
        await storage.WriteProfileAsync(uncut, new byte[10], Token);
        using var engineStore = new LocalEngineStore(storage.DataDirectory);
        // Never started: it holds none of the stored profiles, and with no time to catch up it says so at once.
        using var engine = new ProfileEngine(
            engineStore, storage, Options.Create(new EngineOptions { CatchUpTimeout = TimeSpan.Zero }), NullLogger<ProfileEngine>.Instance);
        var logs = new FakeLogger<ProfileRetentionService>();
        // Kept forever by the engine (Period zero), raw bytes for a day.
        using var service = new ProfileRetentionService(
            storage, Options.Create(new RetentionOptions { Period = TimeSpan.Zero, RawPeriod = TimeSpan.FromDays(1) }), new FakeTimeProvider(Now), logs, engine);

        Assert.Equal(0, await service.RunOnceAsync(Token));

        // Both are past RawPeriod, but the engine never took them in: their raw bytes are their only copy.
        var found = await storage.FindProfilesAsync(TenantId.Default, new ProfileQuery("svc", null, [], DateTime.MinValue, DateTime.MaxValue), Token);
        Assert.Equal([past.ProfileId, uncut.ProfileId], found.Select(m => m.ProfileId));
        Assert.Contains(logs.Collector.GetSnapshot(), record => record.Id.Id == CoreEventIds.RawRetentionHeldBack);
    }

    [Fact]
    public async Task RunOnce_PeriodZero_KeepsEverything()
    {
        await using var directory = new LocalStoreDirectory();
        await using var storage = new LocalProfileStorage(directory.Options());
        await storage.WriteProfileAsync(Meta(Now.AddYears(-3)), new byte[10], Token);
        using var service = Service(storage, new RetentionOptions { Period = TimeSpan.Zero }, new FakeTimeProvider(Now));

        Assert.Equal(0, await service.RunOnceAsync(Token));

        Assert.Equal(1, (await storage.GetStatisticsAsync(Token)).ProfileCount);
    }

    [Fact]
    public async Task RunOnce_StorageFails_LogsAndKeepsGoing()
    {
        await using var directory = new LocalStoreDirectory();
        var storage = new LocalProfileStorage(directory.Options());
        await storage.DisposeAsync();
        using var service = Service(storage, new RetentionOptions(), new FakeTimeProvider(Now));

        Assert.Equal(0, await service.RunOnceAsync(Token));
    }

    [Fact]
    public async Task Start_RunsPassesInTheBackground()
    {
        await using var directory = new LocalStoreDirectory();
        await using var storage = new LocalProfileStorage(directory.Options());
        await storage.WriteProfileAsync(Meta(DateTime.UtcNow.AddDays(-6)), new byte[10], Token);
        using var service = Service(storage, new RetentionOptions { Interval = TimeSpan.FromMilliseconds(20) }, TimeProvider.System);

        await service.StartAsync(Token);
        try
        {
            // Waits for the first pass; the test's own timeout is the only bound.
            while ((await storage.GetStatisticsAsync(Token)).ProfileCount > 0)
            {
                await Task.Delay(20, Token);
            }

            var young = Meta(DateTime.UtcNow);
            await storage.WriteProfileAsync(young, new byte[10], Token);
            await storage.WriteProfileAsync(Meta(DateTime.UtcNow.AddDays(-7)), new byte[10], Token);
            while ((await storage.GetStatisticsAsync(Token)).ProfileCount > 1)
            {
                await Task.Delay(20, Token);
            }

            Assert.Single(await ListAsync(storage, young.ProfileId));
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    private static ProfileRetentionService Service(LocalProfileStorage storage, RetentionOptions options, TimeProvider time) =>
        new(storage, Options.Create(options), time, NullLogger<ProfileRetentionService>.Instance);

    private static ProfileMeta Meta(DateTime createdAt) =>
        new(ProfileId.NewId(createdAt), ProfileType.Cpu, "svc", [], createdAt);

    private static async Task<List<StoredProfile>> ListAsync(LocalProfileStorage storage, params ProfileId[] ids)
    {
        var result = new List<StoredProfile>();
        await foreach (var profile in storage.ListProfilesAsync(TenantId.Default, ids, Token))
        {
            result.Add(profile);
        }

        return result;
    }
}
