namespace Profefe.Testing.Servers;

/// <summary>
/// A throwaway server in a temporary directory: stopped and the directory deleted on dispose, once, and also when
/// the test host exits without disposing it.
/// </summary>
public abstract class ExternalServer : IAsyncDisposable
{
    private readonly string _directory;
    private int _stopped;

    protected ExternalServer(string directory)
    {
        _directory = directory;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        await StopAsync();
        TryDelete(_directory);
        GC.SuppressFinalize(this);
    }

    /// <summary>Stops the server's processes; the directory is deleted after.</summary>
    protected abstract Task StopAsync();

    protected static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // A leftover temporary directory is harmless; the test result matters more.
        }
    }

    // A test host killed by the runner's timeout never disposes its fixtures: do not leave processes behind.
    private void OnProcessExit(object? sender, EventArgs e) => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
