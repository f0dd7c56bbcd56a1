using System.Diagnostics;
using Profefe.Testing;
using Profefe.Testing.Collectors;
using static Profefe.Server.Tests.CollectorApiTests;

namespace Profefe.Server.Tests.Metrics;

/// <summary>/debug/metrics read as Prometheus reads it: profefe's request family, process and runtime metrics.</summary>
public sealed class MetricsExpositionTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Metrics_ExposeRequestsByMethodPathAndCode_AndProcessAndRuntimeMetrics()
    {
        await using var collector = await TestCollector.StartAsync();
        await PushIdAsync(collector, "svc1", "cpu", "collector_cpu_1.prof");
        using (await collector.Client.GetAsync("api/0/services", Cancel))
        using (await collector.Client.GetAsync("api/0/profiles?service=nope&from=2019-01-01T00:00:00&to=2020-01-01T00:00:00", Cancel))
        {
        }

        var text = await ScrapeAsync(collector);
        var metrics = PrometheusExposition.Parse(text);

        Assert.Equal("counter", metrics.FamilyTypes["profefe_api_requests_total"]);
        Assert.Equal("histogram", metrics.FamilyTypes["profefe_api_request_duration_seconds"]);
        Assert.Equal(1, metrics.Find("profefe_api_requests_total", ("method", "POST"), ("path", "/api/0/profiles"), ("code", "200")));
        Assert.Equal(1, metrics.Find("profefe_api_requests_total", ("method", "GET"), ("path", "/api/0/profiles"), ("code", "404")));
        Assert.Equal(1, metrics.Find("profefe_api_requests_total", ("method", "GET"), ("path", "/api/0/services"), ("code", "200")));
        Assert.Equal(1, metrics.Find("profefe_api_request_duration_seconds_count", ("method", "POST"), ("path", "/api/0/profiles"), ("code", "200")));
        Assert.Equal(1, metrics.Find("profefe_api_request_duration_seconds_bucket", ("method", "POST"), ("path", "/api/0/profiles"), ("code", "200"), ("le", "+Inf")));
        Assert.Equal(25709, metrics.Find("profefe_api_request_size_bytes_sum", ("method", "POST"), ("path", "/api/0/profiles")));
        Assert.True(metrics.Find("profefe_api_response_size_bytes_count", ("method", "GET"), ("path", "/api/0/services")) >= 1);
        Assert.Equal(1, metrics.Find("profefe_profiles_collected_total", ("type", "cpu")));
        Assert.Equal(1, metrics.Find("profefe_profiles_stored"));
        Assert.True(metrics.Find("profefe_store_size_bytes") > 0);
        Assert.True(metrics.Has("process_cpu_time_seconds_total"), "process CPU time is missing");
        Assert.True(metrics.Has("process_memory_usage_bytes"), "process memory is missing");
        Assert.Contains(metrics.FamilyTypes.Keys, static name => name.StartsWith("dotnet_gc_", StringComparison.Ordinal));
        Assert.Contains(metrics.FamilyTypes.Keys, static name => name.StartsWith("dotnet_thread_pool_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Metrics_PassPromtoolCheck()
    {
        var promtool = ExternalDependency.RequireExecutable("promtool", "apt-get install prometheus");
        await using var collector = await TestCollector.StartAsync();
        await PushIdAsync(collector, "svc1", "cpu", "collector_cpu_1.prof");
        var text = await ScrapeAsync(collector);

        var start = new ProcessStartInfo(promtool, ["check", "metrics"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(Cancel);
        var errors = process.StandardError.ReadToEndAsync(Cancel);
        await process.StandardInput.WriteAsync(text);
        process.StandardInput.Close();
        await process.WaitForExitAsync(Cancel);

        // Exit 1 is a scrape Prometheus cannot read; 3 lists lint findings. OpenTelemetry's semantic-convention
        // names (process.thread.count → process_thread_count) draw "_count suffix" findings: those names are the
        // standard ones and stay; our own families must have none.
        var report = await output + await errors;
        Assert.True(process.ExitCode is 0 or 3, $"promtool check metrics exited with {process.ExitCode}: {report}");
        var findings = report.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.DoesNotContain(findings, static finding => finding.StartsWith("profefe_", StringComparison.Ordinal));
        Assert.All(findings, static finding => Assert.EndsWith("non-histogram and non-summary metrics should not have \"_count\" suffix", finding, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_Refuses_ASampleWithoutATypeLine() =>
        Assert.Throws<FormatException>(static () => PrometheusExposition.Parse("orphan_total 1\n"));

    [Fact]
    public void Parse_Refuses_ABadEscapeInALabelValue() =>
        Assert.Throws<FormatException>(static () => PrometheusExposition.Parse("# TYPE a counter\na{x=\"\\t\"} 1\n"));

    [Fact]
    public void Parse_Refuses_ARepeatedSeries() =>
        Assert.Throws<FormatException>(static () => PrometheusExposition.Parse("# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n"));

    private static async Task<string> ScrapeAsync(TestCollector collector)
    {
        using var response = await collector.Client.GetAsync("debug/metrics", Cancel);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        return await response.Content.ReadAsStringAsync(Cancel);
    }
}
