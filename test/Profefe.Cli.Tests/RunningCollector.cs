using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Profefe.Client;
using Profefe.Server;
using Profefe.Testing;

namespace Profefe.Cli.Tests;

/// <summary>A real collector (the server's host) on a free loopback port with a temporary data directory.</summary>
internal sealed class RunningCollector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dataDirectory;
    private readonly HttpClient _http;

    private RunningCollector(WebApplication app, string dataDirectory, Uri address)
    {
        _app = app;
        _dataDirectory = dataDirectory;
        Address = address;
        _http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(1) };
        Client = new ProfefeClient(_http);
    }

    public Uri Address { get; }

    public string AddressText => Address.AbsoluteUri.TrimEnd('/');

    public ProfefeClient Client { get; }

    public static async Task<RunningCollector> StartAsync(CancellationToken cancellationToken, int? port = null)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("profefe-cli-test-").FullName;
        port ??= FreePort.Next();
        var app = CollectorHost.Build(
            [
                new("Collector:Address", $"127.0.0.1:{port}"),
                new("Storage:Type", "local"),
                new("Storage:Local:DataDirectory", dataDirectory),
                new("Retention:Period", "00:00:00"),
            ],
            builder => builder.Logging.SetMinimumLevel(LogLevel.Warning));
        await app.StartAsync(cancellationToken);
        return new RunningCollector(app, dataDirectory, new Uri($"http://127.0.0.1:{port}/"));
    }

    public async Task<IReadOnlyList<ProfileInfo>> FindAsync(string service, string? type, CancellationToken cancellationToken) =>
        await Client.FindProfilesAsync(
            new ProfileFilter { Service = service, Type = type, From = DateTimeOffset.UnixEpoch, To = DateTimeOffset.UtcNow.AddDays(1) },
            cancellationToken);

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A storage file still closing; the temp directory is cleaned up by the system.
        }
    }
}
