namespace Profefe.Testing.Servers;

/// <summary>
/// One external server per test assembly (register the derived fixture with [assembly: AssemblyFixture(…)]).
/// When it cannot start, <see cref="Require"/> fails the test under CI=true and skips it elsewhere.
/// </summary>
public abstract class ExternalServerFixture<TServer> : IAsyncLifetime
    where TServer : class, IAsyncDisposable
{
    private readonly string _name;
    private readonly Func<Task<TServer>> _start;
    private TServer? _server;
    private string? _unavailable;

    /// <param name="name">The server's name in skip and failure messages ("PostgreSQL").</param>
    /// <param name="start">Starts the server; throws <see cref="InvalidOperationException"/> saying why when it cannot.</param>
    protected ExternalServerFixture(string name, Func<Task<TServer>> start)
    {
        _name = name;
        _start = start;
    }

    /// <summary>The running server, or fail/skip the calling test with the reason it could not start.</summary>
    public TServer Require()
    {
        if (_server is null)
        {
            ExternalDependency.Unavailable(_unavailable ?? $"{_name} was not started");
        }

        return _server!;
    }

    public async ValueTask InitializeAsync()
    {
        try
        {
            _server = await _start();
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            _unavailable = $"could not start {_name}: {exception.Message}";
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
