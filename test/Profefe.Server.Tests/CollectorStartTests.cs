using Microsoft.Extensions.Logging;
using Profefe.Testing.Collectors;

namespace Profefe.Server.Tests;

public sealed class CollectorStartTests
{
    [Fact]
    public async Task Start_LogsWhereItListensAndOnWhichStorage_Once()
    {
        await using var collector = await TestCollector.StartAsync(
            [new("Logging:LogLevel:Profefe.Server.CollectorHost", "Information")], static builder => builder.Logging.AddFakeLogging());

        var listening = collector.Services.GetFakeLogCollector().GetSnapshot().Where(static r => r.Id.Id == ServerEventIds.Listening).ToList();

        var record = Assert.Single(listening);
        Assert.Equal(LogLevel.Information, record.Level);
        Assert.Equal($"Collector listening on {collector.BaseAddress.ToString().TrimEnd('/')}, storage local", record.Message);
    }

    [Fact]
    public void ListenOptions_EmptyAddress_NamesTheSetting()
    {
        var result = new CollectorListenOptionsValidator().Validate(null, new CollectorListenOptions { Address = "" });

        Assert.Contains("Collector:Address must not be empty", result.FailureMessage, StringComparison.Ordinal);
    }
}
