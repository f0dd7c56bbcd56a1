using System.Diagnostics;

namespace Profefe.Testing.Servers;

/// <summary>Runs the helper programs the test servers need (initdb, pg_ctl, scripts), bounded in time.</summary>
public static class ExternalProcess
{
    public static bool IsRoot { get; } = Environment.UserName == "root";

    /// <summary>Runs <paramref name="fileName"/> (as <paramref name="runAs"/> when the tests run as root); returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, string? runAs = null)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (runAs is not null && IsRoot)
        {
            // initdb and pg_ctl refuse to run as root.
            start.FileName = ExternalDependency.FindExecutable("runuser") ?? "/usr/sbin/runuser";
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add(runAs);
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(fileName);
        }
        else
        {
            start.FileName = fileName;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{Path.GetFileName(fileName)} did not finish within {timeout}");
        }

        // The output pipes may stay open in a daemon the program started; do not wait for them forever.
        var output = await Task.WhenAny(Task.WhenAll(stdout, stderr), Task.Delay(TimeSpan.FromSeconds(5))) is Task<string[]> { IsCompletedSuccessfully: true } both
            ? both.Result[0] + both.Result[1]
            : "";
        return (process.ExitCode, output.Trim());
    }
}
