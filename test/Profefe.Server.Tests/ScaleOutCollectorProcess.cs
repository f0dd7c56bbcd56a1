using System.Diagnostics;
using System.Text;

namespace Profefe.Server.Tests;

/// <summary>
/// The real <c>profefe serve</c> (copied beside the tests) in a process of its own, configured through PROFEFE_
/// environment variables as a deployment would, so several can share one database and bucket.
/// </summary>
internal sealed class ScaleOutCollectorProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ScaleOutCollectorProcess(Process process, Uri baseAddress)
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

    /// <param name="settings">Configuration keys ("Storage:Type") and values.</param>
    public static async Task<ScaleOutCollectorProcess> StartAsync(IReadOnlyDictionary<string, string?> settings, string workingDirectory, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = Testing.FreePort.Next();
            var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "profefe.exe" : "profefe"))
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = workingDirectory,
            };
            foreach (var argument in new[] { "serve", "--addr", $"127.0.0.1:{port}", "--retention", "0" })
            {
                start.ArgumentList.Add(argument);
            }

            start.Environment["PROFEFE_Logging__LogLevel__Default"] = "Warning";
            foreach (var (key, value) in settings)
            {
                start.Environment[CollectorHost.EnvironmentPrefix + key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("could not start profefe serve");
            var collector = new ScaleOutCollectorProcess(process, new Uri($"http://127.0.0.1:{port}/"));
            process.OutputDataReceived += collector.OnOutput;
            process.ErrorDataReceived += collector.OnOutput;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await collector.WaitUntilListeningAsync(cancellationToken);
                return collector;
            }
            catch (InvalidOperationException) when (attempt < 3 && collector.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                // Another process took the port between FreePort and the bind.
                collector.Dispose();
            }
            catch
            {
                collector.Dispose();
                throw;
            }
        }
    }

    public void Dispose()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
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

    // Listening, not ready: a collector whose storage is down still starts and answers 503.
    private async Task WaitUntilListeningAsync(CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"profefe serve exited with {_process.ExitCode} before it listened: {Output}");
            }

            try
            {
                using var response = await client.GetAsync("health", cancellationToken);
                return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("profefe serve did not listen within 60 s");
            }

            await Task.Delay(100, cancellationToken);
        }
    }
}
