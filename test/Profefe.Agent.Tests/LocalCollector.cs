using Profefe.Client;
using Profefe.Server;
using Profefe.Testing;

namespace Profefe.Agent.Tests;

/// <summary>The real collector (profefe serve's host) on a loopback port with a temporary data directory.</summary>
internal sealed class LocalCollector : IAsyncDisposable
{
    private readonly Microsoft.AspNetCore.Builder.WebApplication _app;
    private readonly HttpClient _http;
    private readonly string _dataDirectory;

    private LocalCollector(Microsoft.AspNetCore.Builder.WebApplication app, Uri address, string dataDirectory)
    {
        _app = app;
        _dataDirectory = dataDirectory;
        Address = address;
        _http = new HttpClient { BaseAddress = address };
        Client = new ProfefeClient(_http);
    }

    public Uri Address { get; }

    public ProfefeClient Client { get; }

    public static async Task<LocalCollector> StartAsync()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("profefe-agent-tests-").FullName;
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort.Next();
            var app = CollectorHost.Build(new Dictionary<string, string?>
            {
                ["Collector:Address"] = $"127.0.0.1:{port}",
                ["Storage:Type"] = "local",
                ["Storage:Local:DataDirectory"] = dataDirectory,
                ["Retention:Period"] = "00:00:00",
                ["Logging:LogLevel:Default"] = "Warning",
            });
            try
            {
                await app.StartAsync(TestContext.Current.CancellationToken);
                return new LocalCollector(app, new Uri($"http://127.0.0.1:{port}/"), dataDirectory);
            }
            catch (IOException) when (attempt < 3)
            {
                // Another process took the port between FreePort and Kestrel's bind.
                await app.DisposeAsync();
            }
        }
    }

    /// <summary>Waits until the collector holds at least <paramref name="count"/> profiles of the service and type.</summary>
    public async Task<IReadOnlyList<ProfileInfo>> WaitForProfilesAsync(string service, string type, int count = 1, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        while (true)
        {
            try
            {
                var found = await Client.FindProfilesAsync(
                    new ProfileFilter { Service = service, Type = type, From = DateTimeOffset.UtcNow.AddHours(-1), To = DateTimeOffset.UtcNow.AddHours(1) },
                    cts.Token);
                if (found.Count >= count)
                {
                    return found;
                }
            }
            catch (ProfefeApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                // Nothing pushed yet.
            }

            await Task.Delay(200, cts.Token);
        }
    }

    public Uri ProfileUrl(ProfileInfo profile) => new(Address, "api/0/profiles/" + profile.Id);

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
