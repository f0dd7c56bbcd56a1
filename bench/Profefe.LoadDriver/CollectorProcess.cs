using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Profefe.LoadDriver;

/// <summary>
/// A collector (<c>dotnet profefe.dll serve</c>) started by the driver on a free loopback port, with its
/// output going to a log file so that draining it costs the driver nothing.
/// </summary>
internal sealed class CollectorProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _logPath;

    private CollectorProcess(Process process, Uri url, string logPath)
    {
        _process = process;
        Url = url;
        _logPath = logPath;
    }

    public Uri Url { get; }

    public int Id => _process.Id;

    /// <param name="settings">Configuration given as PROFEFE_ environment variables (for example Retention__RawPeriod).</param>
    /// <param name="cgroupDirectory">
    /// A cgroup (v1 or v2) directory the collector runs in from its first instruction, so the runtime sees its memory limit.
    /// </param>
    public static async Task<CollectorProcess> StartAsync(
        string collectorDll, string dataDirectory, string logPath, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? settings = null,
        string? cgroupDirectory = null)
    {
        var port = FreePort();
        var address = $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };

        // exec keeps the shell's pid, so /proc/<pid> is the collector itself.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add((cgroupDirectory is null ? "" : "echo $$ >\"$5/cgroup.procs\" && ")
            + "exec dotnet \"$1\" serve --addr \"$2\" --data-dir \"$3\" --retention 0 >>\"$4\" 2>&1");
        start.ArgumentList.Add("profefe");
        start.ArgumentList.Add(collectorDll);
        start.ArgumentList.Add(address);
        start.ArgumentList.Add(dataDirectory);
        start.ArgumentList.Add(logPath);
        start.ArgumentList.Add(cgroupDirectory ?? "");
        start.Environment["PROFEFE_Retention__Period"] = "00:00:00";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment["PROFEFE_" + key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");

        // A driver stopped by Ctrl+C or SIGTERM must not leave its collector running.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillQuietly(process);
        var collector = new CollectorProcess(process, new Uri($"http://{address}/"), logPath);
        try
        {
            await collector.WaitHealthyAsync(cancellationToken).ConfigureAwait(false);
            return collector;
        }
        catch
        {
            await collector.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The process's peak resident set size so far (VmHWM), in bytes.</summary>
    public long PeakResidentBytes() => ReadStatusKilobytes("VmHWM:") * 1024;

    /// <summary>The process's resident set size now (VmRSS), in bytes.</summary>
    public long ResidentBytes() => ReadStatusKilobytes("VmRSS:") * 1024;

    /// <summary>User plus system CPU time the collector has used so far.</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    /// <summary>Asks the collector to shut down (SIGTERM, as an orchestrator would) and waits for it.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync().ConfigureAwait(false);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"collector {_process.Id} did not stop within 30 s of SIGTERM; killing it");
            _process.Kill();
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            _process.Dispose();
        }
    }

    private async Task WaitHealthyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the collector exited with code {_process.ExitCode}: {LogTail()}");
            }

            try
            {
                using var response = await http.GetAsync("health", cancellationToken).ConfigureAwait(false);
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
                // Too busy to answer within the timeout; ask again.
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"the collector did not become healthy within 90 s: {LogTail()}");
    }

    private long ReadStatusKilobytes(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id.ToString(CultureInfo.InvariantCulture)}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                var value = line.AsSpan(field.Length).Trim();
                var space = value.IndexOf(' ');
                return long.Parse(space < 0 ? value : value[..space], NumberStyles.None, CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"/proc/{_process.Id}/status has no {field}");
    }

    private string LogTail()
    {
        if (!File.Exists(_logPath))
        {
            return "(no output)";
        }

        var lines = File.ReadAllLines(_logPath);
        return string.Join(Environment.NewLine, lines[Math.Max(0, lines.Length - 15)..]);
    }

    private static void KillQuietly(Process process)
    {
        try
        {
            process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already exited (or disposed after a clean stop).
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
