using System.Diagnostics;

namespace Profefe.Agent.Tests;

/// <summary>Runs TestApps/Profefe.Agent.TestApp (built next to the tests) as a child process.</summary>
internal sealed class TestApp : IDisposable
{
    private readonly Process _process;

    private TestApp(Process process)
    {
        _process = process;
    }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts the app with <paramref name="arguments"/> and waits until its workload runs.</summary>
    public static Task<TestApp> StartAsync(params string[] arguments) => StartAsync(environment: null, arguments);

    /// <summary>Starts the app with <paramref name="arguments"/> and these runtime settings, and waits until its workload runs.</summary>
    public static async Task<TestApp> StartAsync(IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var app = Start("Profefe.Agent.TestApp.dll", environment, arguments);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var line = await app._process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line != "ready")
        {
            var error = await app._process.StandardError.ReadToEndAsync(timeout.Token);
            app.Dispose();
            throw new InvalidOperationException($"the test app did not start: {line} {error}");
        }

        return app;
    }

    /// <summary>Starts a program built next to the tests (<c>dotnet DLL ARGS</c>) without waiting for anything.</summary>
    public static TestApp Start(string dllName, params string[] arguments) => Start(dllName, environment: null, arguments);

    private static TestApp Start(string dllName, IReadOnlyDictionary<string, string>? environment, string[] arguments)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, dllName);
        var start = new ProcessStartInfo(DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + dllName);
        return new TestApp(process);
    }

    /// <summary>Asks the program to stop the way a service manager does (SIGTERM).</summary>
    public void Terminate()
    {
        // The shell's kill builtin: no procps needed.
        using var kill = Process.Start("sh", ["-c", "kill -TERM " + _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Waits for the app to exit by itself and returns its exit code and remaining output.</summary>
    public async Task<(int ExitCode, string Output, string Error)> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var output = _process.StandardOutput.ReadToEndAsync(cts.Token);
        var error = _process.StandardError.ReadToEndAsync(cts.Token);
        await _process.WaitForExitAsync(cts.Token);
        return (_process.ExitCode, await output, await error);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
}
