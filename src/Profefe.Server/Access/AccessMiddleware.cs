using System.Buffers.Text;
using System.Text;
using Microsoft.AspNetCore.Http;
using Profefe.Core.Ingest;
using Profefe.Core.Tenancy;
using Profefe.Server.Limits;

namespace Profefe.Server.Access;

/// <summary>
/// Authenticates and resolves the tenant of every request into a <see cref="TenantFeature"/>. A token comes as
/// <c>Authorization: Bearer &lt;token&gt;</c>, or Basic as Pyroscope's SDKs and Alloy send it (user = the tenant or
/// anything, password = the token; browsers ask for it, so the UI works with a token too). The token's tenant is
/// the request's; without a token, the <c>X-Scope-OrgID</c> header (Pyroscope's convention), absent =
/// <see cref="TenantId.Default"/>. Pushes need the write scope, every other API the read scope; health, version,
/// metrics and the UI's files need no token. 401 without a usable token, 403 with the wrong scope or tenant.
/// </summary>
internal sealed class AccessMiddleware(RequestDelegate next, AccessTokens tokens)
{
    public const string TenantHeader = "X-Scope-OrgID";

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var header = request.Headers[TenantHeader];
        if (header.Count > 1)
        {
            throw ProfileRequestException.BadRequest($"more than one {TenantHeader} header");
        }

        var named = TenantId.Default;
        if (header.Count == 1 && !TenantId.TryParse(header[0], out named, out var error))
        {
            throw ProfileRequestException.BadRequest($"bad {TenantHeader} header: {error}");
        }

        var kind = RequestKinds.Of(request);
        var token = TokenOf(request);
        if (token is null)
        {
            if (tokens.Required && kind != RequestKind.Other)
            {
                throw Unauthorized(context, "this collector needs an access token: send it as Authorization: Bearer, or Basic with the token as password");
            }

            context.Features.Set(new TenantFeature(named));
            return next(context);
        }

        if (tokens.Find(token) is not { } grant)
        {
            throw Unauthorized(context, "unknown access token");
        }

        if (header.Count == 1 && named != grant.Tenant)
        {
            throw Forbidden($"the access token is for tenant \"{grant.Tenant}\", not \"{named}\" ({TenantHeader})");
        }

        var needed = kind == RequestKind.Ingest ? AccessScopes.Write : kind == RequestKind.Other ? AccessScopes.None : AccessScopes.Read;
        if ((grant.Scopes & needed) != needed)
        {
            throw Forbidden($"the access token of tenant \"{grant.Tenant}\" has no {(needed == AccessScopes.Write ? "write" : "read")} scope");
        }

        context.Features.Set(new TenantFeature(grant.Tenant));
        return next(context);
    }

    /// <summary>The token of a Bearer or Basic Authorization header (Basic: the password, else the user), or null.</summary>
    internal static string? TokenOf(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.Length == 0)
        {
            return null;
        }

        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            var encoded = authorization["Basic ".Length..].Trim();
            var bytes = new byte[Base64.GetMaxDecodedFromUtf8Length(encoded.Length)];
            if (!Convert.TryFromBase64String(encoded, bytes, out var length))
            {
                throw ProfileRequestException.BadRequest("malformed Basic Authorization header");
            }

            var text = Encoding.UTF8.GetString(bytes, 0, length);
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? text : text[(colon + 1)..] is { Length: > 0 } password ? password : text[..colon];
        }

        throw ProfileRequestException.BadRequest("unsupported Authorization scheme: use Bearer, or Basic with the token as password");
    }

    private static ProfileRequestException Unauthorized(HttpContext context, string message)
    {
        context.Response.Headers.WWWAuthenticate = "Basic realm=\"profefe\", Bearer";
        return new ProfileRequestException(StatusCodes.Status401Unauthorized, "unauthorized: " + message);
    }

    private static ProfileRequestException Forbidden(string message) => new(StatusCodes.Status403Forbidden, "forbidden: " + message);
}
