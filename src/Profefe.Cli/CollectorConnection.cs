using System.CommandLine;
using Profefe.Client;

namespace Profefe.Cli;

/// <summary>The --collector option every client command shares, and the client it leads to.</summary>
internal static class CollectorConnection
{
    /// <summary>The variable profefe's import script used for the collector's address.</summary>
    public const string EnvironmentVariable = "PROFEFE_COLLECTOR";

    public const string DefaultAddress = "http://localhost:10100";

    public static Option<string> CreateCollectorOption() => new("--collector")
    {
        Description = $"The collector's address [env {EnvironmentVariable}]",
        HelpName = "URL",
        DefaultValueFactory = _ => DefaultFromEnvironment(),
    };

    public static string DefaultFromEnvironment() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultAddress;

    public static Uri ParseAddress(string? text)
    {
        var address = string.IsNullOrWhiteSpace(text) ? DefaultFromEnvironment() : text.Trim();
        if (!address.Contains("://", StringComparison.Ordinal))
        {
            address = "http://" + address;
        }

        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliUsageException($"invalid collector address \"{text}\" (expected http://host:port)");
        }

        // HttpClient resolves relative paths against the base, which must end in '/' to keep a path prefix.
        return uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
    }

    public static HttpClient CreateHttpClient(Uri collector, TimeSpan timeout) =>
        new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(10) })
        {
            BaseAddress = collector,
            Timeout = timeout,
        };

    public static ProfefeClient CreateClient(HttpClient http) => new(http);
}
