using System.Diagnostics;
using System.Text;
using Profefe.Testing;

namespace Profefe.Cli.Tests.Commands;

/// <summary><c>profefe serve</c> writing its log to a pipe, where standard output is buffered.</summary>
public sealed class ServeLogTests
{
    [Fact]
    public async Task Serve_OutputRedirected_WritesEveryRequestLineAndFlushesOnSigterm()
    {
        var ct = TestContext.Current.CancellationToken;
        var dataDirectory = Directory.CreateTempSubdirectory("profefe-serve-log-").FullName;
        try
        {
            var port = FreePort.Next();
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "profefe.dll"), "serve", "--addr", $"127.0.0.1:{port}", "--data-dir", dataDirectory })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var output = new StringBuilder();
            var lines = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            process.OutputDataReceived += (_, e) =>
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                    if (e.Data?.Contains("GET /api/0/version 200", StringComparison.Ordinal) == true)
                    {
                        lines.TrySetResult();
                    }
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            await WaitForVersionAsync(client, ct);

            // Buffered, yet on its way within the flush interval: no request waits for a restart to be logged.
            await lines.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(ct);
            }

            await process.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
            string log;
            lock (output)
            {
                log = output.ToString();
            }

            Assert.Equal(0, process.ExitCode);
            // The store's last line is written after the host stopped: the final flush carries it.
            Assert.Contains("Closed local store", log, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static async Task WaitForVersionAsync(HttpClient client, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var response = await client.GetAsync("api/0/version", ct);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }

            Assert.True(DateTime.UtcNow < deadline, "profefe serve did not answer within 60 s");
            await Task.Delay(100, ct);
        }
    }
}
