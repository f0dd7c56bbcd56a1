using System.CommandLine;
using System.Net;
using Profefe.Cli.Arguments;
using Profefe.Client;

namespace Profefe.Cli.Commands;

/// <summary>
/// The --collector option every client command shares, and the connection it leads to: a client, and the check
/// that tells "nothing stored" from "that address is not a collector" (both answer 404 there).
/// </summary>
internal sealed class CollectorConnection : IDisposable
{
    /// <summary>The variable profefe's import script used for the collector's address.</summary>
    public const string EnvironmentVariable = "PROFEFE_COLLECTOR";

    public const string DefaultAddress = "http://localhost:10100";

    private readonly HttpClient _http;

    private CollectorConnection(HttpClient http)
    {
        _http = http;
        Client = new ProfefeClient(http);
    }

    public ProfefeClient Client { get; }

    public static Option<string> CreateCollectorOption() => new("--collector")
    {
        Description = $"The collector's address [env {EnvironmentVariable}]",
        HelpName = "URL",
        DefaultValueFactory = _ => DefaultFromEnvironment(),
    };

    public static CollectorConnection Open(ParseResult parseResult, Option<string> collector, TimeSpan timeout) =>
        new(CreateHttpClient(ParseAddress(parseResult.GetValue(collector)), timeout));

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

    /// <summary>
    /// Runs a request; a 404 from an address that is not a collector becomes an error saying so, and one from
    /// the collector becomes <paramref name="nothingFound"/> when given.
    /// </summary>
    public async Task<T> RequestAsync<T>(Func<ProfefeClient, CancellationToken, Task<T>> request, CancellationToken cancellationToken, string? nothingFound = null)
    {
        try
        {
            return await request(Client, cancellationToken).ConfigureAwait(false);
        }
        catch (ProfefeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            await EnsureCollectorAsync(cancellationToken).ConfigureAwait(false);
            if (nothingFound is not null)
            {
                throw new CliUsageException(nothingFound, e);
            }

            throw;
        }
    }

    /// <summary>
    /// Throws unless the address answers profefe's version endpoint. The collector answers 404 both for
    /// "nothing stored" and for every path it does not know (as profefe does), so an address with a wrong path
    /// (such as …/api/0) would otherwise look like an empty collector.
    /// </summary>
    public async Task EnsureCollectorAsync(CancellationToken cancellationToken)
    {
        HttpStatusCode status;
        try
        {
            using var response = await _http.GetAsync("api/0/version", cancellationToken).ConfigureAwait(false);
            status = response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (HttpRequestException e)
        {
            throw new ProfefeApiException($"cannot reach the collector at {_http.BaseAddress}: {e.Message}", e);
        }

        var root = _http.BaseAddress!;
        var hint = root.AbsolutePath == "/"
            ? $"check --collector (or {EnvironmentVariable})"
            : $"give the collector's root address, {root.GetLeftPart(UriPartial.Authority)}, without {root.AbsolutePath.TrimEnd('/')}";
        throw new CliUsageException($"{root} is not a profefe collector (GET {root}api/0/version answered {(int)status}): {hint}");
    }

    public void Dispose() => _http.Dispose();
}
