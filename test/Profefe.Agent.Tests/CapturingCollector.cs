using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using Profefe.Testing;

namespace Profefe.Agent.Tests;

/// <summary>A profile a <see cref="CapturingCollector"/> received.</summary>
internal sealed record PushedProfile(string Service, string Type, IReadOnlyDictionary<string, string> Labels, byte[] Data);

/// <summary>
/// Stands in for the collector's ingestion endpoint (POST /api/0/profiles) on loopback: it keeps what is pushed and
/// answers like profefe does, or fails every request when told to.
/// </summary>
internal sealed class CapturingCollector : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private int _next;

    public CapturingCollector()
    {
        var port = FreePort.Next();
        Address = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Address.AbsoluteUri);
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri Address { get; }

    public ConcurrentQueue<PushedProfile> Profiles { get; } = new();

    /// <summary>When set, every request gets this status.</summary>
    public HttpStatusCode? FailWith { get; set; }

    public int Requests => Volatile.Read(ref _next);

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The listener was closed under a pending request.
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var response = context.Response;
            var number = Interlocked.Increment(ref _next);
            if (FailWith is { } status)
            {
                response.StatusCode = (int)status;
                await WriteAsync(response, "{\"code\":" + (int)status + ",\"error\":\"failing on purpose\"}");
                continue;
            }

            var request = context.Request;
            if (request.HttpMethod != "POST" || request.Url!.AbsolutePath != "/api/0/profiles")
            {
                response.StatusCode = 404;
                await WriteAsync(response, "404 page not found\n");
                continue;
            }

            using var body = new MemoryStream();
            await request.InputStream.CopyToAsync(body);
            var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in (request.QueryString["labels"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                labels[pair[..equals]] = pair[(equals + 1)..];
            }

            var service = request.QueryString["service"] ?? "";
            var type = request.QueryString["type"] ?? "";
            Profiles.Enqueue(new PushedProfile(service, type, labels, body.ToArray()));
            var id = number.ToString("d20", CultureInfo.InvariantCulture);
            await WriteAsync(response, $"{{\"code\":200,\"body\":{{\"id\":\"{id}\",\"type\":\"{type}\",\"service\":\"{service}\",\"created_at\":\"2026-01-01T00:00:00Z\"}}}}\n");
        }
    }

    private static async Task WriteAsync(HttpListenerResponse response, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
    }
}
