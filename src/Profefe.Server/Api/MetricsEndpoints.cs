using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Profefe.Core.Storage;

namespace Profefe.Server.Api;

/// <summary>GET /debug/metrics: Prometheus text format, as profefe serves its metrics.</summary>
internal static class MetricsEndpoints
{
    public static IEndpointRouteBuilder MapMetricsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/debug/metrics", RenderAsync);
        return endpoints;
    }

    private static async Task RenderAsync(HttpContext context)
    {
        var services = context.RequestServices;
        long? profiles = null;
        long? bytes = null;
        if (services.GetService<IProfileStorageStatistics>() is { } statistics)
        {
            try
            {
                var current = await statistics.GetStatisticsAsync(context.RequestAborted).ConfigureAwait(false);
                profiles = current.ProfileCount;
                bytes = current.BytesOnDisk >= 0 ? current.BytesOnDisk : null;
            }
            catch (Exception e) when (e is StorageUnavailableException or IOException or InvalidOperationException)
            {
                // Metrics stay available when the store is not; the health endpoint reports it.
                Log.StatisticsFailed(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(MetricsEndpoints)), e);
            }
        }

        var text = Encoding.UTF8.GetBytes(services.GetRequiredService<CollectorMetrics>().Render(profiles, bytes));
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        context.Response.ContentLength = text.Length;
        await context.Response.Body.WriteAsync(text, context.RequestAborted).ConfigureAwait(false);
    }
}
