using Microsoft.AspNetCore.Builder;
using Profefe.Server;
using Profefe.Testing;

namespace Profefe.Storage.S3.Tests;

/// <summary>The real collector host on a free loopback port, with the given settings, talked to over HTTP.</summary>
internal sealed class InProcessCollector : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessCollector(WebApplication app, HttpClient client)
    {
        _app = app;
        Client = client;
    }

    public HttpClient Client { get; }

    public static async Task<InProcessCollector> StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        // The port was free a moment ago; another process may take it first, so try a few.
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort.Next();
            var app = CollectorHost.Build(new Dictionary<string, string?>(settings)
            {
                ["Collector:Address"] = $"127.0.0.1:{port}",
                ["Retention:Period"] = "00:00:00",
            });
            try
            {
                await app.StartAsync(TestContext.Current.CancellationToken);
                return new InProcessCollector(app, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") });
            }
            catch (IOException) when (attempt < 3)
            {
                await app.DisposeAsync();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
