using System.Net.Http.Headers;
using System.Text.Json;
using Profefe.Testing;
using Profefe.Testing.Collectors;
using Profefe.Testing.Profiles;

namespace Profefe.Server.Tests;

/// <summary><c>go tool pprof -top URL</c> reads the three profile URLs of a running collector, as with profefe.</summary>
public sealed class GoPprofTests
{
    [Fact]
    public async Task GoToolPprof_ReadsSingleMultiAndMergeUrls_OfRunningCollector()
    {
        ExternalDependency.RequireExecutable("go", "apt-get install golang-go");
        await using var collector = await TestCollector.StartAsync();
        var cpu1 = await PushAsync(collector, "cpu", "collector_cpu_1.prof");
        await PushAsync(collector, "cpu", "collector_cpu_2.prof");
        var heap1 = await PushAsync(collector, "heap", "collector_heap_1.prof");
        var heap2 = await PushAsync(collector, "heap", "collector_heap_2.prof");

        var single = await TopAsync(new Uri(collector.BaseAddress, $"api/0/profiles/{cpu1}"));
        Assert.Contains("Type: cpu", single, StringComparison.Ordinal);
        Assert.Contains("Duration: 30.02s, Total samples = 9.64s", single, StringComparison.Ordinal);
        Assert.Contains("syscall.syscall", single, StringComparison.Ordinal);

        var multi = await TopAsync(new Uri(collector.BaseAddress, $"api/0/profiles/{heap1}+{heap2}"));
        Assert.Contains("Type: inuse_space", multi, StringComparison.Ordinal);
        Assert.Contains("of 56.62MB total", multi, StringComparison.Ordinal);

        var merge = await TopAsync(new Uri(collector.BaseAddress, "api/0/profiles/merge?service=svc1&type=cpu&from=2019-05-30T00:00:00&to=2019-06-01T00:00:00"));
        Assert.Contains("Type: cpu", merge, StringComparison.Ordinal);
        Assert.Contains("Total samples = 16.85s", merge, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MissingIds.Functions)]
    [InlineData(MissingIds.Locations)]
    [InlineData(MissingIds.Mappings)]
    public async Task GoToolPprof_ReadsServedProfile_WhenPushedTableHadNoIds(MissingIds missing)
    {
        ExternalDependency.RequireExecutable("go", "apt-get install golang-go");
        await using var collector = await TestCollector.StartAsync();
        var reference = Path.Combine(collector.DataDirectory, "reference.pb");
        await File.WriteAllBytesAsync(reference, ProfileWithoutIds.Write(MissingIds.None), TestContext.Current.CancellationToken);
        var id = await PushAsync(collector, "cpu", ProfileWithoutIds.Write(missing));

        var served = new Uri(collector.BaseAddress, $"api/0/profiles/{id}").ToString();
        var top = await Task.Run(() => GoPprof.Run(served, "-top"));

        Assert.Contains($"Total samples = {ProfileWithoutIds.CpuNanoseconds / 1_000_000}ms", top, StringComparison.Ordinal);
        Assert.Equal(await Task.Run(() => GoPprof.Run(reference, "-raw")), await Task.Run(() => GoPprof.Run(served, "-raw")));
    }

    private static Task<string> TopAsync(Uri url) => Task.Run(() => GoPprof.Run(url.ToString(), "-top"));

    private static Task<string> PushAsync(TestCollector collector, string type, string file) =>
        PushAsync(collector, type, TestData.Read("profefe/" + file));

    private static async Task<string> PushAsync(TestCollector collector, string type, byte[] profile)
    {
        using var content = new ByteArrayContent(profile);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await collector.Client.PostAsync($"api/0/profiles?service=svc1&type={type}", content, TestContext.Current.CancellationToken);
        Assert.Equal(200, (int)response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return json.RootElement.GetProperty("body").GetProperty("id").GetString()!;
    }
}
