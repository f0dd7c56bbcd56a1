using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Profefe.Testing.Servers;

/// <summary>
/// The real <c>profefe serve</c> executable (copied beside the tests or bench) running in a process of its own,
/// configured through PROFEFE_ environment variables as a deployment would. Linked into bench/Profefe.UiFirstView.
/// </summary>
public sealed class ServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServeProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    /// <summary>What the collector logged (warnings and errors), for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts a collector on <paramref name="dataDirectory"/> and <paramref name="port"/>; returns once it is ready.</summary>
    /// <param name="settings">Configuration keys ("Storage:Type") and values.</param>
    public static async Task<ServeProcess> StartAsync(string dataDirectory, int port, CancellationToken cancellationToken, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var serve = Launch(port, dataDirectory, ["--data-dir", dataDirectory], settings);
        try
        {
            await serve.WaitForHealthAsync(untilReady: true, cancellationToken);
            return serve;
        }
        catch
        {
            serve.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Starts a collector on a free port that keeps its data only where <paramref name="settings"/> say, so several
    /// can share one store; returns once it listens, ready or not: a collector whose storage is down still starts
    /// and answers 503.
    /// </summary>
    /// <param name="settings">Configuration keys ("Storage:Type") and values.</param>
    public static async Task<ServeProcess> StartListeningAsync(IReadOnlyDictionary<string, string?> settings, string workingDirectory, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var serve = Launch(FreePort.Next(), workingDirectory, [], settings);
            try
            {
                await serve.WaitForHealthAsync(untilReady: false, cancellationToken);
                return serve;
            }
            catch (InvalidOperationException) when (attempt < 3 && serve.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                // Another process took the port between FreePort and the bind.
                serve.Dispose();
            }
            catch
            {
                serve.Dispose();
                throw;
            }
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
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
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
        Client.Dispose();
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }

    private static ServeProcess Launch(int port, string workingDirectory, string[] arguments, IReadOnlyDictionary<string, string?>? settings)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "profefe.exe" : "profefe"))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in (string[])["serve", "--addr", $"127.0.0.1:{port}", .. arguments, "--retention", "0"])
        {
            start.ArgumentList.Add(argument);
        }

        // The collector reads PROFEFE_-prefixed variables (CollectorHost.EnvironmentPrefix).
        start.Environment["PROFEFE_Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            start.Environment["PROFEFE_" + key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start profefe serve");
        var serve = new ServeProcess(process, new Uri($"http://127.0.0.1:{port}/"));

        // Reading the pipes also keeps the collector from blocking on a full one.
        process.OutputDataReceived += serve.OnOutput;
        process.ErrorDataReceived += serve.OnOutput;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return serve;
    }

    private void OnOutput(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is null)
        {
            return;
        }

        lock (_output)
        {
            // Keep the start and the most recent lines; a long outage logs a line per failed request.
            if (_output.Length > 200_000)
            {
                _output.Remove(20_000, _output.Length - 100_000);
            }

            _output.AppendLine(e.Data);
        }
    }

    /// <param name="untilReady">Wait for a 2xx from /health; otherwise for any answer (listening).</param>
    private async Task WaitForHealthAsync(bool untilReady, CancellationToken cancellationToken)
    {
        var what = untilReady ? "become ready" : "listen";
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(untilReady ? 2 : 10) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"profefe serve exited with {_process.ExitCode} before it could {what}: {Output}");
            }

            try
            {
                using var response = await client.GetAsync("health", cancellationToken);
                if (!untilReady || response.IsSuccessStatusCode)
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
                throw new TimeoutException($"profefe serve did not {what} within 60 s");
            }

            await Task.Delay(100, cancellationToken);
        }
    }
}
