using Microsoft.AspNetCore.Http;
using Profefe.Core;
using Profefe.Core.Tenancy;

namespace Profefe.Server.Access;

/// <summary>
/// Resolves the tenant of every request into a <see cref="TenantFeature"/>: the <c>X-Scope-OrgID</c> header
/// (Pyroscope's convention), absent = <see cref="TenantId.Default"/>. A malformed header is a 400.
/// </summary>
internal sealed class AccessMiddleware(RequestDelegate next)
{
    public const string TenantHeader = "X-Scope-OrgID";

    public Task InvokeAsync(HttpContext context)
    {
        var tenant = TenantId.Default;
        var header = context.Request.Headers[TenantHeader];
        if (header.Count > 1)
        {
            throw ProfileRequestException.BadRequest($"more than one {TenantHeader} header");
        }

        if (header.Count == 1 && !TenantId.TryParse(header[0], out tenant, out var error))
        {
            throw ProfileRequestException.BadRequest($"bad {TenantHeader} header: {error}");
        }

        context.Features.Set(new TenantFeature(tenant));
        return next(context);
    }
}
