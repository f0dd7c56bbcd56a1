using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Profefe.Core.Tenancy;

namespace Profefe.Server.Access;

/// <summary>What a token allows.</summary>
[Flags]
public enum AccessScopes
{
    None = 0,
    Read = 1,
    Write = 2,
}

/// <summary>A token's tenant and scopes.</summary>
public sealed record TokenGrant(TenantId Tenant, AccessScopes Scopes);

/// <summary>
/// The access tokens of Access:Tokens and Access:TokensFile, read once at start, and whether requests need one.
/// Tokens are looked up by their SHA-256, so the secrets are not kept and no comparison leaks their prefix.
/// </summary>
internal sealed class AccessTokens
{
    private static readonly JsonSerializerOptions FileFormat = new(JsonSerializerDefaults.Web);

    private readonly Dictionary<string, TokenGrant> _byDigest = new(StringComparer.Ordinal);

    public AccessTokens(IOptions<AccessOptions> access, IOptions<CollectorListenOptions> collector)
    {
        ArgumentNullException.ThrowIfNull(access);
        ArgumentNullException.ThrowIfNull(collector);
        var options = access.Value;
        var tokens = new List<AccessToken>(options.Tokens);
        if (!string.IsNullOrEmpty(options.TokensFile))
        {
            tokens.AddRange(ReadFile(options.TokensFile));
        }

        foreach (var token in tokens)
        {
            _byDigest[Digest(token.Token)] = Grant(token);
        }

        Required = options.RequireToken ?? !AccessOptions.IsLoopback(collector.Value.Address);
        if (Required && _byDigest.Count == 0)
        {
            throw new OptionsValidationException(AccessOptions.SectionName, typeof(AccessOptions), [
                $"the collector listens on {collector.Value.Address}, beyond loopback, so requests need access tokens: "
                + "configure Access:Tokens or Access:TokensFile, or set Access:RequireToken=false to serve without authentication",
            ]);
        }
    }

    /// <summary>True when every request but health, version, metrics and the UI's files must carry a token.</summary>
    public bool Required { get; }

    public bool Any => _byDigest.Count > 0;

    public TokenGrant? Find(string token) => _byDigest.GetValueOrDefault(Digest(token));

    private static string Digest(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static TokenGrant Grant(AccessToken token)
    {
        if (token.Token.Length < 16)
        {
            throw Invalid("every access token must have at least 16 characters");
        }

        if (!TenantId.TryParse(token.Tenant, out var tenant, out var error))
        {
            throw Invalid($"a token's tenant: {error}");
        }

        var scopes = AccessScopes.None;
        foreach (var scope in token.Scopes)
        {
            scopes |= scope switch
            {
                "read" => AccessScopes.Read,
                "write" => AccessScopes.Write,
                _ => throw Invalid($"unknown scope \"{scope}\" (read, write)"),
            };
        }

        return scopes == AccessScopes.None ? throw Invalid($"the token of tenant {tenant} has no scope (read, write)") : new TokenGrant(tenant, scopes);
    }

    private static List<AccessToken> ReadFile(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<List<AccessToken>>(File.ReadAllText(path), FileFormat) ?? [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw Invalid($"Access:TokensFile {path}: {e.Message}");
        }
    }

    private static OptionsValidationException Invalid(string message) =>
        new(AccessOptions.SectionName, typeof(AccessOptions), ["Access: " + message]);
}
