using System.Diagnostics;

namespace Profefe.Server.Tests;

/// <summary>The real <c>profefe serve</c> executable (copied beside the tests) running in a process of its own.</summary>
internal sealed class ServeProcess : IDisposable
{
    private readonly Process _process;

    private ServeProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static async Task<ServeProcess> StartAsync(string dataDirectory, int port, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? settings = null)
    {
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
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment["PROFEFE_" + key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start profefe serve");

        // Drain the pipes so the collector never blocks on a full one.
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var serve = new ServeProcess(process, new Uri($"http://127.0.0.1:{port}/"));
        try
        {
            await serve.WaitUntilReadyAsync(cancellationToken);
            return serve;
        }
        catch
        {
            serve.Dispose();
            throw;
        }
    }

    public void Kill()
    {
        // SIGKILL: no shutdown code runs, as in a crash or an OOM kill.
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, as a service manager stops the collector; returns the exit code.</summary>
    public int Terminate(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

        if (!_process.WaitForExit(timeout))
        {
            throw new TimeoutException($"profefe serve did not stop within {timeout.TotalSeconds} s of SIGTERM");
        }

        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"profefe serve exited with {_process.ExitCode} before it was ready");
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
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("profefe serve did not become ready within 60 s");
            }

            await Task.Delay(100, cancellationToken);
        }
    }
}
