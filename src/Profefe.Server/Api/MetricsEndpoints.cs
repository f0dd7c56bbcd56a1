using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Profefe.Core.Storage;

namespace Profefe.Server.Api;

/// <summary>
/// GET /debug/metrics: the Prometheus text format, as profefe serves its metrics, written by OpenTelemetry's
/// Prometheus exporter. The store's size is read first, as its gauges cannot ask the store themselves.
/// </summary>
internal static class MetricsEndpoints
{
    public const string Path = "/debug/metrics";

    public static IEndpointRouteBuilder MapMetricsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPrometheusScrapingEndpoint(Path, meterProvider: null, static branch => branch.Use(ReadStorageAsync), optionsName: null);
        return endpoints;
    }

    private static async Task ReadStorageAsync(HttpContext context, RequestDelegate next)
    {
        var services = context.RequestServices;
        StorageStatisticsReading? reading = null;
        if (services.GetService<IProfileStorageStatistics>() is { } statistics)
        {
            try
            {
                var current = await statistics.GetStatisticsAsync(context.RequestAborted).ConfigureAwait(false);
                reading = new StorageStatisticsReading(current.ProfileCount, current.BytesOnDisk >= 0 ? current.BytesOnDisk : null);
            }
            catch (Exception e) when (e is StorageUnavailableException or IOException or InvalidOperationException)
            {
                // Metrics stay available when the store is not; the health endpoint reports it.
                Log.StatisticsFailed(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(MetricsEndpoints)), e);
            }
        }

        services.GetRequiredService<CollectorMetrics>().UpdateStorage(reading);
        await next(context).ConfigureAwait(false);
    }
}
