using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Profefe.Testing;

namespace Profefe.Agent.Tests;

[Collection(EventPipeTests.Name)]
public sealed class SelfProfilingTests
{
    [Fact]
    public async Task Agent_ProfilesItsOwnProcessAndStopsCleanly_WhenTheCollectorIsDown()
    {
        using var logged = new FakeLoggerProvider();
        using var logs = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logged));
        var options = new ProfefeAgentOptions
        {
            CollectorAddress = new Uri($"http://127.0.0.1:{FreePort.Next()}/"),
            Service = "self",
            Tick = TimeSpan.FromSeconds(1),
            CpuDuration = TimeSpan.FromMilliseconds(500),
            Jitter = TimeSpan.Zero,
            Profiles = ProfileKinds.All,
            QueueSize = 3,
            InitialRetryDelay = TimeSpan.FromMilliseconds(50),
            MaxRetryDelay = TimeSpan.FromMilliseconds(200),
            StopTimeout = TimeSpan.FromSeconds(2),
        };
        var agent = ProfefeAgent.Start(options, logs);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (agent.CompletedRounds < 3)
        {
            await Task.Delay(100, timeout.Token);
        }

        await agent.DisposeAsync();

        Assert.False(agent.IsRunning);
        Assert.True(agent.QueuedProfiles <= options.QueueSize);
        Assert.DoesNotContain(logged.Collector.GetSnapshot(), r => r.Id.Id == AgentEventIds.RoundFailed);
        Assert.Contains(logged.Collector.GetSnapshot(), r => r.Id.Id == AgentEventIds.UploadRetrying);
        Assert.Contains(logged.Collector.GetSnapshot(), r => r.Id.Id == AgentEventIds.AgentStopped);
    }
}
