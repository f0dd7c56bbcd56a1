using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Profefe.Core.Ingest;

namespace Profefe.Server.Api;

/// <summary>Everything the collector answers besides the UI: profefe's API v0, its additions, metrics and health.</summary>
internal static class CollectorEndpoints
{
    public static IEndpointRouteBuilder MapCollectorEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapProfileEndpoints();
        endpoints.MapTimeSeriesEndpoints();
        endpoints.MapCatalogEndpoints();
        endpoints.MapVersionEndpoints();
        endpoints.MapMetricsEndpoints();
        endpoints.MapHealthEndpoints();

        // profefe's API mux answers its own JSON 404 for every path it does not know.
        endpoints.Map("/api/0/{**rest}", static _ => throw ProfileRequestException.NothingFound());
        return endpoints;
    }
}
