using System.Diagnostics;

namespace Profefe.Testing;

/// <summary>
/// Runs <c>go tool pprof</c>, the reference reader of pprof files. Tests call it on what our encoder wrote
/// to prove Go accepts it. Skips (or fails under CI=true) when Go is not installed.
/// </summary>
public static class GoPprof
{
    // One fixed directory, shared by every run, so Go's build cache is reused instead of littering /tmp.
    private static readonly string Home = Path.Combine(Path.GetTempPath(), "profefe-gopprof");

    /// <summary>Runs <c>go tool pprof &lt;arguments&gt; &lt;file&gt;</c> and returns its standard output.</summary>
    /// <exception cref="InvalidOperationException">pprof exited with an error; the message holds its stderr.</exception>
    public static string Run(string file, params string[] arguments)
    {
        var go = ExternalDependency.RequireExecutable("go", "apt-get install golang-go");
        var start = new ProcessStartInfo(go)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("tool");
        start.ArgumentList.Add("pprof");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add(file);

        // Keep Go away from the user's home, caches and the network.
        Directory.CreateDirectory(Home);
        start.Environment["HOME"] = Home;
        start.Environment["GOCACHE"] = Path.Combine(Home, "cache");
        start.Environment["GOPATH"] = Path.Combine(Home, "gopath");
        start.Environment["PPROF_TMPDIR"] = Path.Combine(Home, "pprof");
        start.Environment["GOFLAGS"] = "-mod=mod";
        start.Environment["GOTOOLCHAIN"] = "local";
        start.Environment["GOPROXY"] = "off";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start go");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"go tool pprof {string.Join(' ', arguments)} {file} did not finish in 2 minutes");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"go tool pprof {string.Join(' ', arguments)} {file} exited with {process.ExitCode}: {stderr.Result}");
        }

        return stdout;
    }
}
