using System.Net;

namespace Profefe.Server.Access;

/// <summary>Who may use the collector and from where (configuration section "Access").</summary>
public sealed class AccessOptions
{
    public const string SectionName = "Access";

    /// <summary>
    /// Host header values (without port) the collector answers; "*" allows any. Empty picks: the loopback names
    /// (localhost, 127.0.0.1, [::1]) when Collector:Address is a loopback address, else any. Refusing other
    /// names stops DNS rebinding: a page whose name resolves to 127.0.0.1 still sends its own name as Host.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>
    /// Whether requests need a token. Null (the default) requires one unless Collector:Address is a loopback
    /// address; false turns authentication off explicitly wherever the collector listens.
    /// </summary>
    public bool? RequireToken { get; set; }

    /// <summary>Tokens, each bound to a tenant with read and/or write scope.</summary>
    public List<AccessToken> Tokens { get; set; } = [];

    /// <summary>A JSON file holding more tokens: <c>[{"token":"…","tenant":"team-a","scopes":["read","write"]}]</c>.</summary>
    public string? TokensFile { get; set; }

    /// <summary>True when <paramref name="address"/> (Collector:Address) listens on loopback only.</summary>
    public static bool IsLoopback(string address)
    {
        var url = CollectorHost.ToUrl(address);
        if (!Uri.TryCreate(url.Replace("://*", "://any", StringComparison.Ordinal).Replace("://+", "://any", StringComparison.Ordinal), UriKind.Absolute, out var uri))
        {
            return false;
        }

        var host = uri.Host.Trim('[', ']');
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }
}

/// <summary>One access token: the secret, the tenant it acts for and what it may do.</summary>
public sealed class AccessToken
{
    public string Token { get; set; } = "";

    public string Tenant { get; set; } = "";

    /// <summary>"read" (finds, merges, services, labels, UI) and/or "write" (pushes).</summary>
    public List<string> Scopes { get; set; } = [];
}
