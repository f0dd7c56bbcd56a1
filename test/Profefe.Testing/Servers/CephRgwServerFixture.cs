namespace Profefe.Testing.Servers;

/// <summary>
/// One Ceph RGW per test assembly (register with [assembly: AssemblyFixture(typeof(CephRgwServerFixture))]).
/// Tests share it and isolate themselves by bucket (<see cref="CephRgwServer.CreateBucketAsync"/>). When it cannot
/// start, <see cref="Require"/> fails the test under CI=true and skips it elsewhere.
/// </summary>
public sealed class CephRgwServerFixture : IAsyncLifetime
{
    private CephRgwServer? _server;
    private string? _unavailable;

    /// <summary>The running server, or fail/skip the calling test with the reason it could not start.</summary>
    public CephRgwServer Require()
    {
        if (_server is null)
        {
            ExternalDependency.Unavailable(_unavailable ?? "Ceph RGW was not started");
        }

        return _server!;
    }

    public async ValueTask InitializeAsync()
    {
        try
        {
            _server = await CephRgwServer.StartAsync();
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            _unavailable = $"could not start Ceph RGW: {exception.Message}";
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
