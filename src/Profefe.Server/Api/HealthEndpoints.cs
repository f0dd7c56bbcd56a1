using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Profefe.Core.Storage;

namespace Profefe.Server.Api;

/// <summary>
/// GET /health: 200 <c>{"code":200,"body":{"status":"ready"}}</c> when the store answers, else 503 with the
/// dependency that failed. Asks the store for its services, which every backend answers without a scan.
/// </summary>
internal static class HealthEndpoints
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/health", CheckAsync);
        return endpoints;
    }

    private static async Task CheckAsync(HttpContext context)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(Timeout);
        try
        {
            await context.RequestServices.GetRequiredService<IProfileReader>().ListServicesAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(HealthEndpoints));
            Log.HealthCheckFailed(logger, e);
            var dependency = e is StorageUnavailableException unavailable ? unavailable.Dependency : "storage";
            var reason = e is OperationCanceledException ? $"no answer within {Timeout.TotalSeconds:0} s" : e.Message;
            await ApiReply.ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, $"not ready: {dependency} storage: {reason}").ConfigureAwait(false);
            return;
        }

        await ApiReply.OkAsync(context, writer => writer.Raw("{\"status\":\"ready\"}")).ConfigureAwait(false);
    }
}
