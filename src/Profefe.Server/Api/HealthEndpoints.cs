using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;

namespace Profefe.Server.Api;

/// <summary>
/// GET /health: 200 <c>{"code":200,"body":{"status":"ready"}}</c> when every storage dependency answers within
/// Storage:HealthTimeout, else 503 naming the dependency that failed. Nothing is cached: once the dependency is
/// back the next check reports ready. A backend with a readiness check (<see cref="IProfileStorageReadiness"/>,
/// which the multi-writer has for all its backends) is asked that; others list their services, which every
/// backend answers from its index without a scan. Not ready either while writes fail (<see cref="StorageWriteStatus"/>).
/// </summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/health", CheckAsync);
        return endpoints;
    }

    private static async Task CheckAsync(HttpContext context)
    {
        var options = context.RequestServices.GetService<IOptions<StorageOptions>>()?.Value ?? new StorageOptions();
        var limit = options.HealthTimeout;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(limit);
        try
        {
            var reader = context.RequestServices.GetRequiredService<IProfileReader>();
            if (reader is IProfileStorageReadiness readiness)
            {
                await readiness.CheckReadyAsync(timeout.Token).ConfigureAwait(false);
            }
            else
            {
                await reader.ListServicesAsync(TenantId.Default, timeout.Token).ConfigureAwait(false);
            }

            // A full disk still answers reads; the pushes it refuses tell.
            if (context.RequestServices.GetService<StorageWriteStatus>()?.CurrentFailure() is { } failure)
            {
                throw new StorageUnavailableException(options.Type, "writes failing: " + failure, null);
            }
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(HealthEndpoints));
            Log.HealthCheckFailed(logger, e);
            // A timeout does not say which dependency hangs; the configured storage is the best name there is.
            var dependency = e is StorageUnavailableException unavailable ? unavailable.Dependency : options.Type;
            var reason = e is OperationCanceledException ? $"no answer within {limit.TotalSeconds:0.###} s" : e.Message;
            await ApiReply.ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, $"not ready: {dependency} storage: {reason}").ConfigureAwait(false);
            return;
        }

        await ApiReply.OkAsync(context, writer => writer.Raw("{\"status\":\"ready\"}")).ConfigureAwait(false);
    }
}
