namespace Profefe.Testing.Servers;

/// <summary>
/// One PostgreSQL server per test assembly (register with [assembly: AssemblyFixture(typeof(PostgresServerFixture))]).
/// When it cannot start, <see cref="Require"/> fails the test under CI=true and skips it elsewhere.
/// </summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    private PostgresServer? _server;
    private string? _unavailable;

    /// <summary>The running server, or fail/skip the calling test with the reason it could not start.</summary>
    public PostgresServer Require()
    {
        if (_server is null)
        {
            ExternalDependency.Unavailable(_unavailable ?? "PostgreSQL was not started");
        }

        return _server!;
    }

    public async ValueTask InitializeAsync()
    {
        try
        {
            _server = await PostgresServer.StartAsync();
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            _unavailable = $"could not start PostgreSQL: {exception.Message}";
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
