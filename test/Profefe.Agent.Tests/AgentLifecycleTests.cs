using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Profefe.Agent.Collection;
using Profefe.Testing;

namespace Profefe.Agent.Tests;

public sealed class AgentLifecycleTests
{
    [Theory]
    [InlineData(null, "svc", "CollectorAddress")]
    [InlineData("ftp://collector/", "svc", "CollectorAddress")]
    [InlineData("http://collector:10100", " ", "Service")]
    public void Start_ThrowsNamingTheSetting_WhenOptionsAreInvalid(string? address, string service, string setting)
    {
        var options = new ProfefeAgentOptions { CollectorAddress = address is null ? null : new Uri(address), Service = service };
        var error = Assert.Throws<ArgumentException>(() => ProfefeAgent.Start(options));
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RejectsADurationLongerThanTheTick()
    {
        var options = new ProfefeAgentOptions { CollectorAddress = new("http://c/"), Service = "s", Tick = TimeSpan.FromSeconds(5), CpuDuration = TimeSpan.FromSeconds(10) };
        Assert.Contains("Profefe:Agent:CpuDuration is \"00:00:10\"; it must be positive and at most Tick (00:00:05)",
            new ProfefeAgentOptionsValidator().Validate(null, options).FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_KeepsGoingAndStopsCleanly_WhenRoundsAndUploadsThrow()
    {
        var rounds = 0;
        using var logged = new FakeLoggerProvider();
        using var logs = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logged));
        var agent = ProfefeAgent.StartWith(
            FastOptions(),
            logs,
            (_, _) => throw new InvalidOperationException("upload exploded"),
            null,
            (settings, _, _) =>
            {
                if (Interlocked.Increment(ref rounds) % 2 == 0)
                {
                    throw new IOException("target vanished");
                }

                return SyntheticRound(settings, 10);
            });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (Volatile.Read(ref rounds) < 6)
        {
            await Task.Delay(20, timeout.Token);
        }

        Assert.True(agent.IsRunning);
        await agent.StopAsync(timeout.Token);

        Assert.False(agent.IsRunning);
        Assert.Contains(logged.Collector.GetSnapshot(), r => r.Id.Id == AgentEventIds.RoundFailed && r.Message.Contains("target vanished", StringComparison.Ordinal));
        Assert.Contains(logged.Collector.GetSnapshot(), r => r.Id.Id is AgentEventIds.UploadRetrying or AgentEventIds.UploadGaveUp && r.Message.Contains("upload exploded", StringComparison.Ordinal));
        Assert.Contains(logged.Collector.GetSnapshot(), r => r.Id.Id == AgentEventIds.AgentStopped);
    }

    [Fact]
    public async Task Agent_MemoryStaysBounded_OverAHundredRoundsWithTheCollectorUnreachable()
    {
        var options = FastOptions();
        options.CollectorAddress = new Uri($"http://127.0.0.1:{FreePort.Next()}/");
        options.QueueSize = 4;
        options.MaxUploadAttempts = 10;

        // Each profile is retried for seconds while rounds come every few milliseconds: the queue must overflow.
        options.InitialRetryDelay = TimeSpan.FromMilliseconds(100);
        options.MaxRetryDelay = TimeSpan.FromSeconds(1);
        options.StopTimeout = TimeSpan.FromSeconds(1);

        // The real uploader (HTTP to a closed port), with rounds that each produce a big profile quickly.
        var agent = ProfefeAgent.StartWith(options, null, null, null, (settings, _, _) => SyntheticRound(settings, 5000));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        long before = 0;
        var maxQueued = 0;
        while (agent.CompletedRounds < 100)
        {
            await Task.Delay(10, timeout.Token);
            maxQueued = Math.Max(maxQueued, agent.QueuedProfiles);
            if (before == 0 && agent.CompletedRounds >= 20)
            {
                before = GC.GetTotalMemory(forceFullCollection: true);
            }
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        await agent.StopAsync(timeout.Token);

        Assert.True(maxQueued <= options.QueueSize, $"queue grew to {maxQueued}");
        Assert.True(agent.DroppedProfiles > 0, "the queue never overflowed: the test did not exercise the bound");
        Assert.True(after - before < 16 * 1024 * 1024, $"managed memory grew by {(after - before) / 1024} KiB from round 20 to round 100");
    }

    [Fact]
    public async Task AddProfefeAgent_FailsToStartTheHost_WhenTheServiceIsMissing()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Profefe:Agent:CollectorAddress"] = "http://127.0.0.1:1/" });
        builder.Services.AddProfefeAgent();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("Profefe:Agent:Service is \"\"; it must be set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddProfefeAgent_StartsAndStopsWithTheHost_WithConfigurationAndCode()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Profefe:Agent:CollectorAddress"] = "http://127.0.0.1:1/",
            ["Profefe:Agent:Labels:region"] = "eu",
            ["Profefe:Agent:Tick"] = "00:10:00",
        });
        ProfefeAgentOptions? seen = null;
        builder.Services.AddProfefeAgent(o =>
        {
            o.Service = "api";
            o.Jitter = TimeSpan.FromMinutes(5);
            seen = o;
        });
        using var host = builder.Build();

        await host.StartAsync(TestContext.Current.CancellationToken);
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.NotNull(seen);
        Assert.Equal("eu", seen.Labels["region"]);
        Assert.Equal(TimeSpan.FromMinutes(10), seen.Tick);
        Assert.Single(host.Services.GetServices<IHostedService>(), s => s.GetType().Name == "ProfefeAgentHostedService");
    }

    [Fact]
    public void Options_HaveTheIssuesDefaults()
    {
        var options = new ProfefeAgentOptions();
        Assert.Equal(TimeSpan.FromMinutes(1), options.Tick);
        Assert.Equal(TimeSpan.FromSeconds(10), options.CpuDuration);
        Assert.Equal(TimeSpan.FromSeconds(5), options.InitialRetryDelay);
        Assert.Equal(TimeSpan.FromMinutes(2), options.MaxRetryDelay);
        Assert.Equal(ProfileKinds.Cpu | ProfileKinds.Heap | ProfileKinds.Mutex, options.Profiles);
    }

    internal static ProfefeAgentOptions FastOptions() => new()
    {
        CollectorAddress = new Uri("http://127.0.0.1:1/"),
        Service = "test",
        Tick = TimeSpan.FromMilliseconds(10),
        CpuDuration = TimeSpan.FromMilliseconds(5),
        Jitter = TimeSpan.Zero,
        InitialRetryDelay = TimeSpan.FromMilliseconds(1),
        MaxRetryDelay = TimeSpan.FromMilliseconds(2),
        MaxUploadAttempts = 2,
        StopTimeout = TimeSpan.FromSeconds(1),
    };

    /// <summary>A round that returns a cpu profile of <paramref name="samples"/> distinct stacks without touching EventPipe.</summary>
    internal static RoundResult SyntheticRound(RoundSettings settings, int samples)
    {
        var builder = new ProfileBuilder([new("samples", "count"), new("cpu", "nanoseconds")], new("cpu", "nanoseconds"), 1_000_000, DateTimeOffset.UtcNow, settings.Duration);
        for (var i = 0; i < samples; i++)
        {
            builder.Add([new(i, "App.Method" + i, "App", (ulong)(0x1000 + (i * 16))), new(-1, "App.Main", "App", 0x10)], null, [1, 1_000_000]);
        }

        return new RoundResult([new CollectedProfile(ProfileKinds.Cpu, builder.ToProfile())], DateTimeOffset.UtcNow, settings.Duration, samples, 0, 0, 0);
    }
}
