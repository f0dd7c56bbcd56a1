using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;

namespace Profefe.Server.Access;

/// <summary>
/// Keeps browsers from being used against the collector: the Host header must be allowed (DNS rebinding), a
/// browser request from another site is refused unless it is the user following a link (CSRF: a page elsewhere
/// must not store profiles or start merges with the user's access), and the UI's pages get a content security
/// policy and may not be framed (clickjacking). Clients that are not browsers (agents, curl) send neither
/// Sec-Fetch-Site nor Origin and pass. Hand-written rather than ASP.NET's host filtering and antiforgery: those
/// answer HTML before our pipeline, or need tokens in forms the API's clients do not send.
/// </summary>
internal sealed class BrowserDefenceMiddleware(RequestDelegate next, IOptions<AccessOptions> access, IOptions<CollectorListenOptions> collector)
{
    // Style attributes stay allowed (the UI colours its legends with them; they cannot run script), style elements do not.
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly string[] LoopbackHosts = ["localhost", "127.0.0.1", "[::1]"];

    private readonly string[]? _allowedHosts = AllowedHosts(access.Value, collector.Value);

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (_allowedHosts is not null && request.Host.HasValue && !IsAllowed(request.Host.Host))
        {
            throw new ProfileRequestException(StatusCodes.Status400BadRequest,
                $"bad request: host \"{request.Host.Host}\" is not allowed (Access:AllowedHosts)")
            {
                Limit = "Access:AllowedHosts",
            };
        }

        if (CrossSiteReason(request) is { } reason)
        {
            throw new ProfileRequestException(StatusCodes.Status403Forbidden,
                $"forbidden: cross-site request refused ({reason}); use the collector's own pages, or a client that is not a browser")
            {
                Limit = "cross-site",
            };
        }

        var path = request.Path.Value ?? "";
        if (path == "/" || path.StartsWith("/ui", StringComparison.Ordinal))
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XFrameOptions = "DENY";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
        }

        return next(context);
    }

    /// <summary>Why a browser's request comes from another site and may not be served, or null.</summary>
    internal static string? CrossSiteReason(HttpRequest request)
    {
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        var readOnly = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);
        if (site.Length > 0)
        {
            // "none": typed in the address bar or a bookmark. Following a link from elsewhere is a navigation:
            // the answer goes to the user's own tab, not to the page that linked.
            if (site is "same-origin" or "none" || (readOnly && request.Headers["Sec-Fetch-Mode"] == "navigate"))
            {
                return null;
            }

            return $"Sec-Fetch-Site: {site}";
        }

        // Browsers without Fetch Metadata still send Origin with every cross-origin request that changes state.
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return null;
        }

        return Uri.TryCreate(origin, UriKind.Absolute, out var uri) && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)
            ? null
            : $"Origin: {origin}";
    }

    private bool IsAllowed(string host)
    {
        foreach (var allowed in _allowedHosts!)
        {
            if (string.Equals(allowed, host, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static string[]? AllowedHosts(AccessOptions access, CollectorListenOptions collector)
    {
        if (access.AllowedHosts.Count > 0)
        {
            return access.AllowedHosts.Contains("*") ? null : [.. access.AllowedHosts];
        }

        return AccessOptions.IsLoopback(collector.Address) ? LoopbackHosts : null;
    }
}
