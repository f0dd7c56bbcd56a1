namespace Profefe.Storage.Local.Tests;

internal static class Program
{
    public static int Main(string[] args)
    {
        if (Environment.GetEnvironmentVariable(CrashWriter.DirectoryVariable) is { Length: > 0 } directory)
        {
            return CrashWriter.Run(directory);
        }

        // What xunit's generated entry point does.
        if (args.Any(arg => arg is "--server" or "--internal-msbuild-node"))
        {
            return Xunit.MicrosoftTestingPlatform.TestPlatformTestFramework.RunAsync(args, SelfRegisteredExtensions.AddSelfRegisteredExtensions).GetAwaiter().GetResult();
        }

        return Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args).GetAwaiter().GetResult();
    }
}
