using System.Net.Http.Headers;
using Google.Protobuf;

namespace Profefe.Server.Tests.Pyroscope;

/// <summary>
/// A Connect client over our generated messages, speaking binary proto or JSON as Grafana, Drilldown, Alloy and
/// profilecli do, plus the SDKs' /ingest.
/// </summary>
internal sealed class PyroscopeClient(HttpClient http, bool json)
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default);

    public bool Json => json;

    public async Task<TResponse> CallAsync<TResponse>(string method, IMessage request, MessageParser<TResponse> parser)
        where TResponse : IMessage<TResponse>, new()
    {
        using var response = await SendAsync(method, request);
        var body = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"{method}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(body)}");
        Assert.Equal(json ? "application/json" : "application/proto", response.Content.Headers.ContentType?.MediaType);
        return json ? Parser.Parse<TResponse>(System.Text.Encoding.UTF8.GetString(body)) : parser.ParseFrom(body);
    }

    public Task<HttpResponseMessage> SendAsync(string method, IMessage request)
    {
        var content = json
            ? new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(request)))
            : new ByteArrayContent(request.ToByteArray());
        content.Headers.ContentType = new MediaTypeHeaderValue(json ? "application/json" : "application/proto");
        return http.PostAsync(method.TrimStart('/'), content, TestContext.Current.CancellationToken);
    }

    public static Task<HttpResponseMessage> IngestAsync(HttpClient http, string query, HttpContent content) =>
        http.PostAsync("ingest?" + query, content, TestContext.Current.CancellationToken);
}
