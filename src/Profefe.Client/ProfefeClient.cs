using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Profefe.Client;

/// <summary>
/// Talks to a profefe collector (API v0): pushes profiles, finds, downloads and merges stored ones.
/// </summary>
/// <remarks>
/// The wrapped <see cref="HttpClient"/>'s <see cref="HttpClient.BaseAddress"/> must be the collector's root
/// (e.g. <c>http://localhost:10100</c>). Every error reply surfaces as <see cref="ProfefeApiException"/> carrying the
/// collector's error text; a collector that cannot be reached surfaces the same way with status 0.
/// </remarks>
public sealed class ProfefeClient
{
    // The collector's query layout (Go's "2006-01-02T15:04:05", UTC): the reference profefe accepts nothing else.
    private const string WireTimeLayout = "yyyy-MM-dd'T'HH:mm:ss";

    private readonly HttpClient _http;

    /// <summary>Creates a client over <paramref name="httpClient"/>, whose base address is the collector.</summary>
    /// <param name="httpClient">The HTTP client to send requests with; its BaseAddress must be set.</param>
    /// <exception cref="ArgumentException">The client has no BaseAddress.</exception>
    public ProfefeClient(HttpClient httpClient)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        if (httpClient.BaseAddress is null)
        {
            throw new ArgumentException("the HttpClient needs a BaseAddress: the collector's address", nameof(httpClient));
        }

        _http = httpClient;
    }

    /// <summary>The collector's address.</summary>
    public Uri Collector => _http.BaseAddress!;

    /// <summary>Uploads one profile (<c>POST /api/0/profiles</c>).</summary>
    /// <param name="service">The service the profile belongs to.</param>
    /// <param name="type">The profile type's wire name: <c>cpu</c>, <c>heap</c>, <c>block</c>, <c>mutex</c>, <c>goroutine</c>, <c>threadcreate</c>, <c>trace</c> or <c>other</c>.</param>
    /// <param name="labels">Labels to attach, or null.</param>
    /// <param name="data">The profile: gzip or raw pprof protobuf (or, for <c>trace</c>, a Go execution trace).</param>
    /// <param name="createdAt">When the profile was taken; the collector uses the profile's own time when it has one.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The stored profile's metadata.</returns>
    /// <exception cref="ProfefeApiException">The collector rejected the profile or could not be reached.</exception>
    public async Task<ProfileInfo> PushProfileAsync(
        string service,
        string type,
        IReadOnlyList<ProfileLabel>? labels,
        ReadOnlyMemory<byte> data,
        DateTimeOffset? createdAt = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(service);
        ArgumentException.ThrowIfNullOrWhiteSpace(type);

        var query = new StringBuilder("api/0/profiles?service=").Append(Uri.EscapeDataString(service))
            .Append("&type=").Append(Uri.EscapeDataString(type));
        AppendLabels(query, labels);
        if (createdAt is { } at)
        {
            query.Append("&created_at=").Append(Uri.EscapeDataString(FormatTime(at, roundUp: false)));
        }

        using var content = new ReadOnlyMemoryContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Post, query.ToString()) { Content = content };
        var info = await SendForJsonAsync(request, ProfefeJsonContext.Default.ApiReplyProfileInfo, cancellationToken).ConfigureAwait(false);
        return info ?? throw new ProfefeApiException(HttpStatusCode.OK, "the collector's reply carried no profile metadata");
    }

    /// <summary>Finds stored profiles' metadata (<c>GET /api/0/profiles</c>), oldest first.</summary>
    /// <param name="filter">Which profiles to find.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The matching profiles; empty when nothing matches.</returns>
    /// <exception cref="ProfefeApiException">The collector rejected the query or could not be reached.</exception>
    public async Task<IReadOnlyList<ProfileInfo>> FindProfilesAsync(ProfileFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        using var request = new HttpRequestMessage(HttpMethod.Get, QueryPath("api/0/profiles", filter));
        try
        {
            var found = await SendForJsonAsync(request, ProfefeJsonContext.Default.ApiReplyListProfileInfo, cancellationToken).ConfigureAwait(false);
            return found ?? [];
        }
        catch (ProfefeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            // The collector answers "nothing found" with 404; to a caller that is just an empty result.
            return [];
        }
    }

    /// <summary>Downloads one stored profile verbatim, or several merged into one (<c>GET /api/0/profiles/id1+id2</c>).</summary>
    /// <param name="ids">The profiles' ids (at least one).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The profile's bytes (gzip pprof, or the stored bytes of a single trace).</returns>
    /// <exception cref="ProfefeApiException">A profile was not found, the profiles cannot be merged, or the collector could not be reached.</exception>
    public async Task<byte[]> GetProfileAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            throw new ArgumentException("at least one profile id is needed", nameof(ids));
        }

        var path = new StringBuilder("api/0/profiles/");
        for (var i = 0; i < ids.Count; i++)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(ids[i], nameof(ids));
            if (i > 0)
            {
                path.Append('+');
            }

            path.Append(Uri.EscapeDataString(ids[i]));
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, path.ToString());
        return await SendForBytesAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Merges every stored profile that matches <paramref name="filter"/> (<c>GET /api/0/profiles/merge</c>).</summary>
    /// <param name="filter">Which profiles to merge; <see cref="ProfileFilter.Type"/> is required.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The merged profile, gzip pprof.</returns>
    /// <exception cref="ProfefeApiException">Nothing matched (404), the query was rejected, or the collector could not be reached.</exception>
    public async Task<byte[]> MergeProfilesAsync(ProfileFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        using var request = new HttpRequestMessage(HttpMethod.Get, QueryPath("api/0/profiles/merge", filter));
        return await SendForBytesAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lists the services that have stored profiles (<c>GET /api/0/services</c>), sorted.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The services' names; empty when nothing is stored.</returns>
    /// <exception cref="ProfefeApiException">The collector failed or could not be reached.</exception>
    public async Task<IReadOnlyList<string>> ListServicesAsync(CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/0/services");
        try
        {
            var services = await SendForJsonAsync(request, ProfefeJsonContext.Default.ApiReplyListString, cancellationToken).ConfigureAwait(false);
            return services ?? [];
        }
        catch (ProfefeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return [];
        }
    }

    /// <summary>Formats a time the way the collector's queries take it: UTC, whole seconds.</summary>
    /// <param name="time">The time.</param>
    /// <param name="roundUp">Round a fractional second up instead of down (for inclusive upper bounds).</param>
    internal static string FormatTime(DateTimeOffset time, bool roundUp)
    {
        var utc = time.UtcDateTime;
        var whole = new DateTime(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
        if (roundUp && whole != utc)
        {
            whole = whole.AddSeconds(1);
        }

        return whole.ToString(WireTimeLayout, CultureInfo.InvariantCulture);
    }

    private static string QueryPath(string path, ProfileFilter filter)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(filter.Service, nameof(filter));
        var query = new StringBuilder(path).Append("?service=").Append(Uri.EscapeDataString(filter.Service));
        if (!string.IsNullOrEmpty(filter.Type))
        {
            query.Append("&type=").Append(Uri.EscapeDataString(filter.Type));
        }

        AppendLabels(query, filter.Labels);
        query.Append("&from=").Append(Uri.EscapeDataString(FormatTime(filter.From, roundUp: false)));
        query.Append("&to=").Append(Uri.EscapeDataString(FormatTime(filter.To, roundUp: true)));
        if (filter.Limit is > 0 and var limit)
        {
            query.Append("&limit=").Append(limit.ToString(CultureInfo.InvariantCulture));
        }

        return query.ToString();
    }

    private static void AppendLabels(StringBuilder query, IReadOnlyList<ProfileLabel>? labels)
    {
        if (labels is null || labels.Count == 0)
        {
            return;
        }

        // The collector splits the value on ',' and '=' first and unescapes each key and value afterwards,
        // so keys and values are escaped once on their own and the whole list once more as a query value.
        var list = new StringBuilder();
        for (var i = 0; i < labels.Count; i++)
        {
            if (i > 0)
            {
                list.Append(',');
            }

            list.Append(Uri.EscapeDataString(labels[i].Key)).Append('=').Append(Uri.EscapeDataString(labels[i].Value));
        }

        query.Append("&labels=").Append(Uri.EscapeDataString(list.ToString()));
    }

    private async Task<T?> SendForJsonAsync<T>(
        HttpRequestMessage request,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<ApiReply<T>> typeInfo,
        CancellationToken cancellationToken)
    {
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await ReadBodyAsync(response, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw ErrorFrom(response, body);
        }

        try
        {
            var reply = JsonSerializer.Deserialize(body, typeInfo);
            return reply is null ? default : reply.Body;
        }
        catch (JsonException e)
        {
            throw new ProfefeApiException(response.StatusCode, $"the collector's reply is not the expected JSON: {e.Message}");
        }
    }

    private async Task<byte[]> SendForBytesAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await ReadBodyAsync(response, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw ErrorFrom(response, body);
        }

        return body;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new ProfefeApiException($"cannot reach the collector at {Collector}: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ProfefeApiException($"the collector at {Collector} did not answer within {_http.Timeout.TotalSeconds:0.#}s", e);
        }
    }

    private async Task<byte[]> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new ProfefeApiException($"the collector at {Collector} broke off its reply: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ProfefeApiException($"the collector at {Collector} did not finish its reply within {_http.Timeout.TotalSeconds:0.#}s", e);
        }
    }

    internal static ProfefeApiException ErrorFrom(HttpResponseMessage response, byte[] body)
    {
        var status = response.StatusCode;
        string? message = null;
        try
        {
            message = JsonSerializer.Deserialize(body, ProfefeJsonContext.Default.ApiError)?.Error;
        }
        catch (JsonException)
        {
            // Not the JSON envelope (a proxy's page, Go's "404 page not found"): fall back to the text itself.
        }

        if (string.IsNullOrWhiteSpace(message))
        {
            var text = Encoding.UTF8.GetString(body).Trim();
            message = text.Length is > 0 and <= 300 && !text.Contains('\n', StringComparison.Ordinal)
                ? text
                : $"{(int)status} {response.ReasonPhrase ?? status.ToString()}";
        }

        return new ProfefeApiException(status, message);
    }
}
