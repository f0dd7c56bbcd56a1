using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Profefe.UiFirstView;

/// <summary>
/// <c>profefe serve</c> (copied beside this program) in a process of its own, with a data directory of its own,
/// so that nothing in it is compiled or cached yet when the page asks for the profile.
/// </summary>
internal sealed class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dataDirectory;

    private ServeProcess(Process process, Uri baseAddress, string dataDirectory)
    {
        _process = process;
        _dataDirectory = dataDirectory;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static async Task<ServeProcess> StartAsync(CancellationToken cancellationToken)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("profefe-ui-first-view-").FullName;
        var port = FreePort();
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "profefe.exe" : "profefe"))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dataDirectory,
        };
        foreach (var argument in new[] { "serve", "--addr", $"127.0.0.1:{port}", "--data-dir", dataDirectory, "--retention", "0" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start profefe serve");

        // Drain the pipes so the collector never blocks on a full one.
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var serve = new ServeProcess(process, new Uri($"http://127.0.0.1:{port}/"), dataDirectory);
        try
        {
            await serve.WaitUntilReadyAsync(cancellationToken);
            return serve;
        }
        catch
        {
            await serve.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
        Directory.Delete(_dataDirectory, recursive: true);
        return ValueTask.CompletedTask;
    }

    // A port that was free a moment ago: a measurement run tolerates the rare clash (it fails and is run again).
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"profefe serve exited with {_process.ExitCode} before it was ready"));
            }

            try
            {
                using var response = await client.GetAsync("health", cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Listening, not answering yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("profefe serve did not become ready within 60 s");
            }

            await Task.Delay(100, cancellationToken);
        }
    }
}
