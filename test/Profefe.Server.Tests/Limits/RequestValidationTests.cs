using Microsoft.Extensions.DependencyInjection;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Testing;
using Profefe.Testing.Collectors;
using static Profefe.Server.Tests.CollectorApiTests;

namespace Profefe.Server.Tests.Limits;

/// <summary>Request values that used to answer 500 or 503, and a store that stops taking writes.</summary>
public sealed class RequestValidationTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("api/0/profiles?service=svc1&from=0001-01-01T00:00:00%2B01:00&to=2020-01-01T00:00:00")]
    [InlineData("api/0/profiles?service=svc1&from=2000-01-01T00:00:00&to=9999-12-31T23:59:59-23:00")]
    [InlineData("api/0/profiles?service=svc1&from=2000-01-01T00:00:00&to=3000-01-01T00:00:00")]
    [InlineData("api/0/profiles/merge?service=svc1&type=cpu&from=1600-01-01T00:00:00&to=2000-01-01T00:00:00")]
    public async Task Find_Answers400_WhenATimeIsOutsideTheRepresentableRange(string url)
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.Client.GetAsync(url, Cancel);

        Assert.Equal(400, (int)response.StatusCode);
    }

    [Fact]
    public async Task Push_Answers400_WhenCreatedAtIsOutsideTheRepresentableRange()
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await PushAsync(collector, "svc1", "cpu", TestData.Read("profefe/collector_cpu_1.prof"), query: "&created_at=9999-12-31T23:59:59-23:00");

        Assert.Equal(400, (int)response.StatusCode);
    }

    [Fact]
    public async Task Find_Answers400_WhenThereAreMoreLabelFiltersThanTheLimit()
    {
        await using var collector = await TestCollector.StartAsync();
        var labels = string.Join(",", Enumerable.Range(0, 64).Select(i => $"k{i}=v"));

        using var response = await collector.Client.GetAsync($"api/0/profiles?service=svc1&labels={labels}&from=2000-01-01T00:00:00&to=2020-01-01T00:00:00", Cancel);

        await AssertErrorAsync(response, 400, "bad request: 64 label filters, more than the limit of 32");
    }

    [Theory]
    [InlineData("api/0/profiles?service=s%00vc&from=2000-01-01T00:00:00&to=2020-01-01T00:00:00", "bad request: \"service\" must not contain a NUL character")]
    [InlineData("api/0/profiles?service=svc&labels=k=v%2500&from=2000-01-01T00:00:00&to=2020-01-01T00:00:00", "bad request: \"labels\" must not contain a NUL character")]
    [InlineData("api/0/labels?service=s%00vc", "bad request: \"service\" must not contain a NUL character")]
    public async Task Requests_Answer400_WhenAServiceOrLabelHoldsANulCharacter(string url, string message)
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.Client.GetAsync(url, Cancel);

        await AssertErrorAsync(response, 400, message);
    }

    [Fact]
    public async Task Health_IsNotReady_WhileWritesFail_ThoughReadsStillWork()
    {
        await using var collector = await TestCollector.StartAsync(configure: builder =>
            builder.Services.AddSingleton<IProfileWriter, FullDiskWriter>());

        using var before = await collector.Client.GetAsync("health", Cancel);
        using var push = await PushAsync(collector, "svc1", "cpu", TestData.Read("profefe/collector_cpu_1.prof"));
        using var after = await collector.Client.GetAsync("health", Cancel);

        Assert.Equal(200, (int)before.StatusCode);
        Assert.Equal(503, (int)push.StatusCode);
        await AssertErrorAsync(after, 503, "not ready: local storage: writes failing: No space left on device");
    }

    private sealed class FullDiskWriter : IProfileWriter
    {
        public Task WriteProfileAsync(ProfileMeta meta, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
            throw new StorageUnavailableException("local", "No space left on device", new IOException("No space left on device"));
    }
}
