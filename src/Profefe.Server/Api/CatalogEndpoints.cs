using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Profefe.Core.Ingest;
using Profefe.Core.Query;
using Profefe.Server.Access;

namespace Profefe.Server.Api;

/// <summary>
/// The names the store holds, for pickers and scripts: the services with stored profiles and, per service or
/// overall, their label keys and values.
/// </summary>
internal static class CatalogEndpoints
{
    public static IEndpointRouteBuilder MapCatalogEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.Map("/api/0/services", ListServicesAsync);
        endpoints.MapGet("/api/0/labels", ListLabelsAsync);
        return endpoints;
    }

    /// <summary>/api/0/services: the services with stored profiles (any method, as in profefe).</summary>
    private static async Task ListServicesAsync(HttpContext context)
    {
        // profefe routes "/api/0/services/" nowhere; ASP.NET routing would accept the slash.
        if (context.Request.Path.Value?.EndsWith('/') == true)
        {
            throw ProfileRequestException.NothingFound();
        }

        var services = await Querier(context).ListServicesAsync(context.GetTenant(), context.RequestAborted).ConfigureAwait(false);
        if (services.Count == 0)
        {
            throw ProfileRequestException.NothingFound();
        }

        await ApiReply.OkAsync(context, writer => writer.StringArray(services)).ConfigureAwait(false);
    }

    /// <summary>
    /// GET /api/0/labels[?service=S] (an addition to profefe's API): label keys and their values,
    /// <c>{"code":200,"body":[{"key":"dc","values":["ams","fra"]},…]}</c>, sorted; an empty list when there are none.
    /// </summary>
    private static async Task ListLabelsAsync(HttpContext context)
    {
        var service = context.Request.Query.TryGetValue("service", out var values) && values.Count > 0 ? values[0] : null;
        if (service?.Contains('\0', StringComparison.Ordinal) == true)
        {
            throw ProfileRequestException.BadRequest("\"service\" must not contain a NUL character");
        }

        var labels = await Querier(context).ListLabelsAsync(context.GetTenant(), service, context.RequestAborted).ConfigureAwait(false);
        await ApiReply.OkAsync(context, writer =>
        {
            writer.Raw("[");
            for (var i = 0; i < labels.Count; i++)
            {
                writer.Raw(i == 0 ? "{\"key\":" : ",{\"key\":").String(labels[i].Key).Raw(",\"values\":").StringArray(labels[i].Values).Raw("}");
            }

            writer.Raw("]");
        }).ConfigureAwait(false);
    }

    private static ProfileQuerier Querier(HttpContext context) => context.RequestServices.GetRequiredService<ProfileQuerier>();
}
