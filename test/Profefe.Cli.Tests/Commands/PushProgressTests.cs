using System.Diagnostics;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Cli.Tests.Commands;

/// <summary>The real profefe executable under a pseudo-terminal (util-linux script), where push draws a progress bar.</summary>
public sealed class PushProgressTests
{
    [Fact]
    public async Task Push_DrawsProgressBar_OnTerminal()
    {
        var ct = TestContext.Current.CancellationToken;
        var script = ExternalDependency.RequireExecutable("script", "apt-get install bsdutils");
        await using var collector = await TestCollector.StartAsync();
        var profefe = Path.Combine(AppContext.BaseDirectory, "profefe.dll");
        string[] files = [TestData.PathOf("go/cpu_hash_01.pb.gz"), TestData.PathOf("go/cpu_hash_02.pb.gz"), TestData.PathOf("profefe/collector_cpu_no-samples.prof")];
        var command = $"dotnet '{profefe}' push -s tty -t cpu --collector {collector.AddressText} " + string.Join(' ', files.Select(f => $"'{f}'"));
        var start = new ProcessStartInfo(script, ["-q", "-e", "-c", command, "/dev/null"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.Environment["TERM"] = "xterm";

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromMinutes(2), ct);
        var output = await stdout;

        Assert.True(process.ExitCode == 1, $"exit {process.ExitCode}\n{output}\n{await stderr}");
        Assert.Contains("\r[##############################] 3/3, 1 failed", output, StringComparison.Ordinal);
        Assert.Contains($"FAILED  {files[2]}: malformed profile (could not parse pprof profile: profile is empty: no samples)", output, StringComparison.Ordinal);
        Assert.Contains("pushed 2 of 3 files (", output, StringComparison.Ordinal);
        // On a terminal only failures get a line of their own; the bar stands for the rest.
        Assert.DoesNotContain("ok      ", output, StringComparison.Ordinal);
        Assert.Equal(2, (await collector.FindAsync("tty", "cpu", ct)).Count);
    }
}
