using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Profefe.Core.Ingest;
using Profefe.Core.Query;
using Profefe.Server.Access;

namespace Profefe.Server.Api;

/// <summary>/api/0/services: the services with stored profiles (any method, as in profefe).</summary>
internal static class ServiceEndpoints
{
    public static IEndpointRouteBuilder MapServiceEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.Map("/api/0/services", ListAsync);
        return endpoints;
    }

    private static async Task ListAsync(HttpContext context)
    {
        // profefe routes "/api/0/services/" nowhere; ASP.NET routing would accept the slash.
        if (context.Request.Path.Value?.EndsWith('/') == true)
        {
            throw ProfileRequestException.NothingFound();
        }

        var services = await context.RequestServices.GetRequiredService<ProfileQuerier>().ListServicesAsync(context.GetTenant(), context.RequestAborted).ConfigureAwait(false);
        if (services.Count == 0)
        {
            throw ProfileRequestException.NothingFound();
        }

        await ApiReply.OkAsync(context, writer => writer.StringArray(services)).ConfigureAwait(false);
    }
}
