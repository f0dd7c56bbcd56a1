using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Profefe.Client;
using Profefe.Server;

namespace Profefe.Testing.Collectors;

/// <summary>
/// The real collector host in this process: Kestrel on 127.0.0.1 port 0 (the port Kestrel bound is read back,
/// so no other process can take it first), local storage in a temporary directory unless the settings say otherwise.
/// </summary>
public sealed class TestCollector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly bool _ownsDataDirectory;

    private TestCollector(WebApplication app, Uri baseAddress, string dataDirectory, bool ownsDataDirectory)
    {
        _app = app;
        _ownsDataDirectory = ownsDataDirectory;
        BaseAddress = baseAddress;
        DataDirectory = dataDirectory;
        Client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None })
        {
            BaseAddress = baseAddress,
        };
        Api = new ProfefeClient(Client);
    }

    /// <summary>http://127.0.0.1:port/</summary>
    public Uri BaseAddress { get; }

    /// <summary>http://127.0.0.1:port, as a command line takes it.</summary>
    public string AddressText => BaseAddress.AbsoluteUri.TrimEnd('/');

    /// <summary>The local store's directory (unused when the settings choose another storage).</summary>
    public string DataDirectory { get; }

    /// <summary>Plain HTTP to the collector: no redirects followed, no decompression.</summary>
    public HttpClient Client { get; }

    /// <summary>The profefe API client over <see cref="Client"/>.</summary>
    public ProfefeClient Api { get; }

    public IServiceProvider Services => _app.Services;

    /// <param name="settings">Configuration keys over the defaults (local storage, retention off, warnings only).</param>
    /// <param name="configure">Extra registrations, e.g. a fake clock or logger.</param>
    /// <param name="dataDirectory">A local store to open (kept on dispose); a new temporary one when null.</param>
    public static async Task<TestCollector> StartAsync(
        IEnumerable<KeyValuePair<string, string?>>? settings = null,
        Action<WebApplicationBuilder>? configure = null,
        string? dataDirectory = null)
    {
        var owns = dataDirectory is null;
        dataDirectory ??= Directory.CreateTempSubdirectory("profefe-test-collector-").FullName;
        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Collector:Address"] = "127.0.0.1:0",
            ["Storage:Type"] = "local",
            ["Storage:Local:DataDirectory"] = dataDirectory,

            // Test profiles are often years old; retention must not race the tests.
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
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestCollector(app, new Uri(bound.TrimEnd('/') + "/"), dataDirectory, owns);
    }

    /// <summary>The profiles of a service (and type, unless null) created at any time up to a day from now.</summary>
    public async Task<IReadOnlyList<ProfileInfo>> FindAsync(string service, string? type, CancellationToken cancellationToken) =>
        await Api.FindProfilesAsync(
            new ProfileFilter { Service = service, Type = type, From = DateTimeOffset.UnixEpoch, To = DateTimeOffset.UtcNow.AddDays(1) },
            cancellationToken);

    /// <summary>Waits until the collector holds at least <paramref name="count"/> profiles of the service and type.</summary>
    public async Task<IReadOnlyList<ProfileInfo>> WaitForProfilesAsync(string service, string type, int count = 1, TimeSpan? timeout = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout ?? TimeSpan.FromMinutes(2));
        while (true)
        {
            try
            {
                var found = await FindAsync(service, type, cts.Token);
                if (found.Count >= count)
                {
                    return found;
                }
            }
            catch (ProfefeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                // Nothing pushed yet.
            }

            await Task.Delay(200, cts.Token);
        }
    }

    public Uri ProfileUrl(ProfileInfo profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return new Uri(BaseAddress, "api/0/profiles/" + profile.Id);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        if (_ownsDataDirectory)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A storage file still closing only leaves a temporary directory behind.
            }
        }
    }
}
