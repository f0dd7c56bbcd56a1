using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Profefe.Server.Pyroscope.Ingest;
using Profefe.Server.Pyroscope.Query;

namespace Profefe.Server.Pyroscope;

/// <summary>Pyroscope's protocols on the collector's port, beside profefe's API: ingest, push, queries and render.</summary>
internal static class PyroscopeEndpoints
{
    public static IServiceCollection AddPyroscopeProtocols(this IServiceCollection services)
    {
        services.TryAddSingleton<PyroscopeIngester>();
        services.TryAddSingleton<PyroscopeQueryService>();
        return services;
    }

    public static IEndpointRouteBuilder MapPyroscopeEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapIngestEndpoints();
        endpoints.MapQuerierEndpoints();
        endpoints.MapRenderEndpoints();
        return endpoints;
    }
}
