using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;
using Profefe.Core.Query;
using Profefe.Core.Storage;
using Profefe.Server.Api;
using Profefe.Server.Ui;

namespace Microsoft.AspNetCore.Builder;

public static class UiEndpointRouteBuilderExtensions
{
    private const string UiFilesRoute = "/ui/{*file}";

    /// <summary>
    /// The web UI: pages under /ui/ (and / redirecting there) and the JSON views they read under /api/ui/
    /// (label keys and values come from /api/0/labels).
    /// Needs <see cref="ProfileQuerier"/>, <see cref="IProfileReader"/> and <see cref="CollectorOptions"/> registered.
    /// </summary>
    public static IEndpointRouteBuilder MapUiEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        endpoints.MapGet("/", static context =>
        {
            context.Response.Redirect("/ui/");
            return Task.CompletedTask;
        });
        var files = UiStaticFiles.Create(endpoints.CreateApplicationBuilder());
        endpoints.MapGet(UiFilesRoute, (HttpContext context, string? file) =>
        {
            // "/ui" matches too; the pages' relative links need the trailing slash.
            if (string.IsNullOrEmpty(file) && !context.Request.Path.Value!.EndsWith('/'))
            {
                context.Response.Redirect("/ui/" + context.Request.QueryString);
                return Task.CompletedTask;
            }

            context.Items[ApiRequestMiddleware.MetricsPathKey] = UiFilesRoute;
            return string.IsNullOrEmpty(file) ? ServeIndexAsync(context, files) : files(context);
        });

        var api = endpoints.MapGroup("/api/ui");
        api.MapGet("/services", static (HttpContext context, ProfileQuerier querier) =>
            UiEndpoints.GuardAsync(context, () => UiEndpoints.ServicesAsync(context, querier)));
        api.MapGet("/latest", static (HttpContext context, ProfileQuerier querier) =>
            UiEndpoints.GuardAsync(context, () => UiEndpoints.LatestAsync(context, querier)));
        api.MapGet("/timeline", static (HttpContext context, ProfileQuerier querier, IProfileReader reader, IOptions<CollectorOptions> options) =>
            UiEndpoints.GuardAsync(context, () => UiEndpoints.TimelineAsync(context, querier, reader, options)));
        api.MapGet("/profile", static (HttpContext context, ProfileQuerier querier, IOptions<CollectorOptions> options) =>
            UiEndpoints.GuardAsync(context, () => UiEndpoints.ProfileAsync(context, querier, options)));
        api.MapGet("/flame", static (HttpContext context, ProfileQuerier querier, IOptions<CollectorOptions> options) =>
            UiEndpoints.GuardAsync(context, () => UiEndpoints.FlameAsync(context, querier, options)));
        api.MapGet("/compare", static (HttpContext context, ProfileQuerier querier, IOptions<CollectorOptions> options) =>
            UiEndpoints.GuardAsync(context, () => UiEndpoints.CompareAsync(context, querier, options)));
        return endpoints;
    }

    /// <summary>/ui/ is index.html; the request keeps its own path for the request log.</summary>
    private static async Task ServeIndexAsync(HttpContext context, RequestDelegate files)
    {
        var path = context.Request.Path;
        context.Request.Path = "/ui/index.html";
        try
        {
            await files(context).ConfigureAwait(false);
        }
        finally
        {
            context.Request.Path = path;
        }
    }
}
