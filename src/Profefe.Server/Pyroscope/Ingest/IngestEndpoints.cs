using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;
using Profefe.Core.Profiles;
using Profefe.Server.Access;
using Profefe.Server.Api;
using Profefe.Server.Pyroscope.Connect;
using Profefe.Server.Pyroscope.Protos.Push;

namespace Profefe.Server.Pyroscope.Ingest;

/// <summary>
/// Pyroscope's two ways in: <c>POST /ingest</c> (also under /pyroscope), which its SDKs use, answering 200 with an
/// empty body, or 400/413/422 with <c>{"code":…,"error":"…"}</c>; and Connect's <c>/push.v1.PusherService/Push</c>,
/// which Grafana Alloy and profilecli use.
/// </summary>
internal static class IngestEndpoints
{
    public static void MapIngestEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/ingest", IngestAsync);
        endpoints.MapPost("/pyroscope/ingest", IngestAsync);
        endpoints.MapUnary("/push.v1.PusherService/Push", PushRequest.Parser, PushAsync);
    }

    private static async Task IngestAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var query = context.Request.Query;
        var parameters = IngestParameters.Parse(
            name => query.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null,
            services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime);
        var maxBodyBytes = services.GetRequiredService<IOptions<CollectorOptions>>().Value.MaxBodyBytes;
        using var body = await RequestBody.ReadAsync(context, maxBodyBytes).ConfigureAwait(false);
        var stored = await services.GetRequiredService<PyroscopeIngester>()
            .IngestAsync(context.GetTenant(), parameters, context.Request.ContentType, body.Memory, context.RequestAborted).ConfigureAwait(false);
        RecordCollected(context, stored);
        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    private static async Task<ConnectReply> PushAsync(PushRequest request, HttpContext context)
    {
        var stored = await context.RequestServices.GetRequiredService<PyroscopeIngester>().PushAsync(context.GetTenant(), request, context.RequestAborted).ConfigureAwait(false);
        RecordCollected(context, stored);
        return new ConnectReply(new PushResponse());
    }

    private static void RecordCollected(HttpContext context, IReadOnlyList<ProfileMeta> stored)
    {
        var metrics = context.RequestServices.GetRequiredService<CollectorMetrics>();
        foreach (var meta in stored)
        {
            metrics.RecordProfileCollected(ProfileTypeNames.ToWireName(meta.Type));
        }
    }
}
