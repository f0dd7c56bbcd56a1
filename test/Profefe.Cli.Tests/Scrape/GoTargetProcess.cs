using System.Collections.Concurrent;
using System.Diagnostics;
using Profefe.Testing;

namespace Profefe.Cli.Tests.Scrape;

/// <summary>
/// A running copy of GoTarget/main.go, a real Go program serving net/http/pprof, built with the installed Go
/// toolchain once per test run. Skips (or fails under CI=true) when Go is not installed.
/// </summary>
internal sealed class GoTargetProcess : IAsyncDisposable
{
    // One fixed directory for the binary and Go's build cache, so tests share one build instead of one each.
    private static readonly string Home = Path.Combine(Path.GetTempPath(), "profefe-gotarget");
    private static readonly SemaphoreSlim BuildGate = new(1, 1);
    private static string? _binary;

    private readonly Process _process;
    private readonly ConcurrentQueue<(DateTime At, string Path)> _requests = new();
    private readonly Task _reader;

    private GoTargetProcess(Process process, string url)
    {
        _process = process;
        Url = url;
        _reader = Task.Run(ReadRequestsAsync);
    }

    /// <summary>The pprof index, e.g. http://127.0.0.1:40123/debug/pprof/.</summary>
    public string Url { get; }

    /// <summary>The requests it served, when started with -log-requests.</summary>
    public IReadOnlyList<(DateTime At, string Path)> Requests => [.. _requests];

    public static async Task<GoTargetProcess> StartAsync(IEnumerable<string> arguments, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null)
    {
        var binary = await BuildAsync(cancellationToken);
        var start = new ProcessStartInfo(binary, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        var banner = await process.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        if (banner is null || !banner.StartsWith("listening on ", StringComparison.Ordinal))
        {
            var error = await process.StandardError.ReadToEndAsync(cancellationToken);
            process.Kill(entireProcessTree: true);
            process.Dispose();
            Assert.Fail($"the Go target did not start: {banner} {error}");
        }

        return new GoTargetProcess(process, banner!["listening on ".Length..]);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
        }

        await _reader;
        _process.Dispose();
    }

    private static async Task<string> BuildAsync(CancellationToken cancellationToken)
    {
        var go = ExternalDependency.RequireExecutable("go", "apt-get install golang-go");
        await BuildGate.WaitAsync(cancellationToken);
        try
        {
            if (_binary is not null)
            {
                return _binary;
            }

            Directory.CreateDirectory(Home);
            // Built under a name of its own, then renamed: test processes running side by side never run a half-written binary.
            var binary = Path.Combine(Home, "gotarget");
            var building = $"{binary}-{Environment.ProcessId}";
            var build = new ProcessStartInfo(go, ["build", "-o", building, "."])
            {
                WorkingDirectory = Path.Combine(TestData.RepoRoot, "test", "Profefe.Cli.Tests", "GoTarget"),
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            // Hermetic: no network, no module downloads, no toolchain switching, nothing in the user's home.
            build.Environment["HOME"] = Home;
            build.Environment["GOCACHE"] = Path.Combine(Home, "cache");
            build.Environment["GOPATH"] = Path.Combine(Home, "gopath");
            build.Environment["GOFLAGS"] = "-mod=mod";
            build.Environment["GOTOOLCHAIN"] = "local";
            build.Environment["GOPROXY"] = "off";
            build.Environment["CGO_ENABLED"] = "0";
            using var process = Process.Start(build)!;
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.StandardOutput.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            Assert.True(process.ExitCode == 0, $"go build failed: {await stderr}");
            File.Move(building, binary, overwrite: true);
            _binary = binary;
            return binary;
        }
        finally
        {
            BuildGate.Release();
        }
    }

    private async Task ReadRequestsAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("request ", StringComparison.Ordinal))
            {
                _requests.Enqueue((DateTime.UtcNow, line["request ".Length..]));
            }
        }
    }
}
