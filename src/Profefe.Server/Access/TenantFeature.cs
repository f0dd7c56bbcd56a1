using Microsoft.AspNetCore.Http;
using Profefe.Core.Tenancy;

namespace Profefe.Server.Access;

/// <summary>The tenant a request acts for, set by <see cref="AccessMiddleware"/> before any endpoint runs.</summary>
public sealed record TenantFeature(TenantId Tenant);

public static class TenantHttpContextExtensions
{
    /// <summary>The request's tenant; <see cref="TenantId.Default"/> when nothing resolved one.</summary>
    public static TenantId GetTenant(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<TenantFeature>()?.Tenant ?? TenantId.Default;
    }
}
