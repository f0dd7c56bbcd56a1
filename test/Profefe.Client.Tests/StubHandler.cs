using System.Net;
using System.Text;

namespace Profefe.Client.Tests;

/// <summary>Answers every request with a canned reply and remembers the requests.</summary>
internal sealed class StubHandler(Func<HttpRequestMessage, HttpResponseMessage> respond) : HttpMessageHandler
{
    public List<HttpRequestMessage> Requests { get; } = [];

    public List<byte[]> Bodies { get; } = [];

    public static StubHandler Json(HttpStatusCode status, string json, string contentType = "application/json") =>
        new(_ => new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, contentType) });

    public ProfefeClient CreateClient(string baseAddress = "http://collector.test:10100/") =>
        new(new HttpClient(this) { BaseAddress = new Uri(baseAddress) });

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Add(request);
        Bodies.Add(request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken));
        return respond(request);
    }
}
