using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Profefe.Core.Ingest;
using Profefe.Core.Query;
using Profefe.Server.Access;

namespace Profefe.Server.Api;

/// <summary>
/// GET /api/0/labels[?service=S] (an addition to profefe's API): label keys and their values,
/// <c>{"code":200,"body":[{"key":"dc","values":["ams","fra"]},…]}</c>, sorted; an empty list when there are none.
/// </summary>
internal static class LabelEndpoints
{
    public static IEndpointRouteBuilder MapLabelEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/0/labels", ListAsync);
        return endpoints;
    }

    private static async Task ListAsync(HttpContext context)
    {
        var service = context.Request.Query.TryGetValue("service", out var values) && values.Count > 0 ? values[0] : null;
        if (service?.Contains('\0', StringComparison.Ordinal) == true)
        {
            throw ProfileRequestException.BadRequest("\"service\" must not contain a NUL character");
        }

        var labels = await context.RequestServices.GetRequiredService<ProfileQuerier>().ListLabelsAsync(context.GetTenant(), service, context.RequestAborted).ConfigureAwait(false);
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
}
