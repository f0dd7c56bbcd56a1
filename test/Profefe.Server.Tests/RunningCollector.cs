using System.Net;
using Microsoft.AspNetCore.Builder;
using Profefe.Testing;

namespace Profefe.Server.Tests;

/// <summary>A real collector (Kestrel on 127.0.0.1, a free port, a temporary data directory) for one test or fixture.</summary>
internal sealed class RunningCollector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly bool _ownsDataDirectory;

    private RunningCollector(WebApplication app, Uri baseAddress, string dataDirectory, bool ownsDataDirectory)
    {
        _app = app;
        _ownsDataDirectory = ownsDataDirectory;
        BaseAddress = baseAddress;
        DataDirectory = dataDirectory;
        Client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None })
        {
            BaseAddress = baseAddress,
        };
    }

    public Uri BaseAddress { get; }

    public string DataDirectory { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public static Task<RunningCollector> StartAsync(
        IEnumerable<KeyValuePair<string, string?>>? settings = null,
        Action<WebApplicationBuilder>? configure = null,
        string? dataDirectory = null)
    {
        return StartAsync(settings, configure, dataDirectory, attempts: 3);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        if (_ownsDataDirectory)
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    private static async Task<RunningCollector> StartAsync(
        IEnumerable<KeyValuePair<string, string?>>? settings, Action<WebApplicationBuilder>? configure, string? dataDirectory, int attempts)
    {
        var owns = dataDirectory is null;
        dataDirectory ??= Directory.CreateTempSubdirectory("profefe-server-tests-").FullName;
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort.Next();
            var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
            {
                ["Collector:Address"] = $"127.0.0.1:{port}",
                ["Storage:Type"] = "local",
                ["Storage:Local:DataDirectory"] = dataDirectory,

                // The contract's profiles are from 2019; retention must not race the tests.
                ["Retention:Period"] = "00:00:00",
                ["Logging:LogLevel:Default"] = "Warning",
            };
            foreach (var (key, value) in settings ?? [])
            {
                all[key] = value;
            }

            var app = CollectorHost.Build(all, configure);
            try
            {
                await app.StartAsync(TestContext.Current.CancellationToken);
                return new RunningCollector(app, new Uri($"http://127.0.0.1:{port}/"), dataDirectory, owns);
            }
            catch (IOException) when (attempt < attempts)
            {
                // Another process took the port between FreePort and Kestrel's bind.
                await app.DisposeAsync();
            }
        }
    }
}
