using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Profefe.Cli.Commands;
using Profefe.Testing;

namespace Profefe.Cli.Tests;

/// <summary>
/// README.md as a new user follows it, on a copy of the repository holding only what a clone holds: its first
/// command (install profefe, run the collector) and every command of its "Using it" example, taken from
/// README.md itself so that README and test cannot drift apart. Prints how long each step took.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Install)]
public sealed class ReadmeTests
{
    // README's collector address; its examples use it literally.
    private const int ReadmePort = 10100;

    // The one change to README's commands: the link goes to a directory of the test's instead of /usr/local/bin.
    private const string InstallDirectory = "/usr/local/bin";

    [Fact]
    public async Task Readme_InstallsRunsAndAnswersItsExamples_OnACleanCopy()
    {
        var ct = TestContext.Current.CancellationToken;
        var readme = await File.ReadAllTextAsync(Path.Combine(TestData.RepoRoot, "README.md"), ct);
        var top = ShellBlocks(readme).First();
        var examples = ShellBlocks(readme[readme.IndexOf("\n## Using it\n", StringComparison.Ordinal)..]).First();
        Assert.Equal(2, top.Count);
        Assert.Equal("./test.sh", WithoutComment(top[1]));
        Assert.Contains(InstallDirectory, top[0], StringComparison.Ordinal);
        Assert.Contains($"profefe serve --addr 127.0.0.1:{ReadmePort}", top[0], StringComparison.Ordinal);
        var git = ExternalDependency.FindExecutable("git");
        if (git is null)
        {
            ExternalDependency.Unavailable("git is not installed (the test copies what a clone of the repository holds)");
        }

        if (!PortIsFree(ReadmePort))
        {
            ExternalDependency.Unavailable($"port {ReadmePort}, README's collector address, is in use");
        }

        var work = Directory.CreateTempSubdirectory("profefe-readme-").FullName;
        var clone = Path.Combine(work, "profefe");
        var bin = Directory.CreateDirectory(Path.Combine(work, "bin")).FullName;
        var log = new StringBuilder();
        Process? collector = null;
        try
        {
            var stopwatch = Stopwatch.StartNew();
            await CopyCleanAsync(git!, TestData.RepoRoot, clone, ct);
            var copied = stopwatch.Elapsed;

            collector = StartShell(top[0].Replace(InstallDirectory, bin, StringComparison.Ordinal), clone, bin, log);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ReadmePort}/"), Timeout = TimeSpan.FromSeconds(5) };
            var installed = TimeSpan.Zero;
            while (!await AnswersAsync(http, ct))
            {
                Assert.False(collector.HasExited, $"README's first command ended with exit code {(collector.HasExited ? collector.ExitCode : 0)}:\n{Tail(log)}");
                Assert.True(stopwatch.Elapsed < TimeSpan.FromMinutes(10), $"the collector did not answer within 10 minutes:\n{Tail(log)}");
                if (installed == TimeSpan.Zero && File.Exists(Path.Combine(bin, "profefe")))
                {
                    installed = stopwatch.Elapsed;
                }

                await Task.Delay(100, ct);
            }

            var answering = stopwatch.Elapsed;
            Report($"clean copy {Seconds(copied)}, profefe installed at {Seconds(installed)}, collector answering at {Seconds(answering)} (load {LoadAverage()})");

            var outputs = new List<string>();
            foreach (var line in examples)
            {
                var tool = line.Split(' ')[0];
                if (tool != "profefe" && ExternalDependency.FindExecutable(tool) is null)
                {
                    if (ExternalDependency.IsCi)
                    {
                        Assert.Fail($"required under CI=true: {tool}, for README's \"{line}\"");
                    }

                    Report($"skipped ({tool} is not installed): {line}");
                    continue;
                }

                var step = Stopwatch.StartNew();
                var (exitCode, output) = await RunShellAsync(line, clone, bin, ct);
                Report($"{Seconds(step.Elapsed),7}  {WithoutComment(line)}");
                Assert.True(exitCode == 0, $"README's \"{line}\" ended with exit code {exitCode}:\n{output}");
                outputs.Add(output);
            }

            // The examples said what they should: the pushed profiles are found, ranked and merged.
            var all = string.Join("\n", outputs);
            Assert.Contains(" cpu ", all, StringComparison.Ordinal);
            Assert.Contains(" heap ", all, StringComparison.Ordinal);
            Assert.Contains("flat  flat%   sum%        cum   cum%", all, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(clone, "merged.pb.gz")), all);
        }
        finally
        {
            if (collector is not null)
            {
                if (!collector.HasExited)
                {
                    collector.Kill(entireProcessTree: true);
                    await collector.WaitForExitAsync(CancellationToken.None);
                }

                collector.Dispose();
            }

            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The lines of each ```sh block, in order.</summary>
    private static IEnumerable<List<string>> ShellBlocks(string markdown)
    {
        var lines = markdown.ReplaceLineEndings("\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i] != "```sh")
            {
                continue;
            }

            var block = new List<string>();
            for (i++; i < lines.Length && lines[i] != "```"; i++)
            {
                if (!string.IsNullOrWhiteSpace(lines[i]) && !lines[i].TrimStart().StartsWith('#'))
                {
                    block.Add(lines[i].Trim());
                }
            }

            yield return block;
        }
    }

    private static string WithoutComment(string line)
    {
        var comment = line.IndexOf("   #", StringComparison.Ordinal);
        return (comment < 0 ? line : line[..comment]).Trim();
    }

    /// <summary>The files a commit of the working tree would hold: tracked ones and new ones git does not ignore.</summary>
    private static async Task CopyCleanAsync(string git, string repository, string destination, CancellationToken ct)
    {
        var list = new ProcessStartInfo(git) { RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = repository };
        foreach (var argument in new[] { "ls-files", "-z", "--cached", "--others", "--exclude-standard" })
        {
            list.ArgumentList.Add(argument);
        }

        using var process = Process.Start(list)!;
        var files = await process.StandardOutput.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        Assert.Equal(0, process.ExitCode);
        foreach (var file in files.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var source = Path.Combine(repository, file);
            if (!File.Exists(source))
            {
                continue;
            }

            var target = Path.Combine(destination, file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(target, File.GetUnixFileMode(source));
            }
        }
    }

    private static Process StartShell(string command, string directory, string bin, StringBuilder log)
    {
        var process = Process.Start(ShellStart(command, directory, bin))!;
        void Append(object sender, DataReceivedEventArgs e)
        {
            lock (log)
            {
                log.AppendLine(e.Data);
            }
        }

        process.OutputDataReceived += Append;
        process.ErrorDataReceived += Append;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<(int ExitCode, string Output)> RunShellAsync(string command, string directory, string bin, CancellationToken ct)
    {
        using var process = Process.Start(ShellStart(command, directory, bin))!;
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromMinutes(2), ct);
        return (process.ExitCode, await output + await error);
    }

    private static ProcessStartInfo ShellStart(string command, string directory, string bin)
    {
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        start.Environment["PATH"] = bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");

        // A fresh machine's environment: no shared build output, no collector address, no lingering build nodes.
        start.Environment.Remove("PROFEFE_ARTIFACTS");
        start.Environment.Remove(CollectorConnection.EnvironmentVariable);
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        return start;
    }

    private static async Task<bool> AnswersAsync(HttpClient http, CancellationToken ct)
    {
        try
        {
            using var response = await http.GetAsync("api/0/version", ct);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    private static bool PortIsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string Tail(StringBuilder log)
    {
        lock (log)
        {
            var text = log.ToString();
            return text.Length <= 4000 ? text : text[^4000..];
        }
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";

    private static void Report(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);
}
