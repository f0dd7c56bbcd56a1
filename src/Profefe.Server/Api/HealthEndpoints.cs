using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Profefe.Server.Api;

/// <summary>
/// GET /health through ASP.NET Core Health Checks, answered in profefe's envelope: 200
/// <c>{"code":200,"body":{"status":"ready"}}</c>, or 503 with the failing check's description as the error.
/// </summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteAsync });
        return endpoints;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        if (report.Status == HealthStatus.Healthy)
        {
            return ApiReply.OkAsync(context, static writer => writer.Raw("{\"status\":\"ready\"}"));
        }

        var failed = report.Entries.Values.FirstOrDefault(static entry => entry.Status != HealthStatus.Healthy);
        return ApiReply.ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, failed.Description ?? "not ready");
    }
}
