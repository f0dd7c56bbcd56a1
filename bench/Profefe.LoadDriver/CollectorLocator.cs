namespace Profefe.LoadDriver;

/// <summary>Finds the profefe.dll that was built together with this driver.</summary>
internal static class CollectorLocator
{
    public static string Find(string? given)
    {
        if (given is not null)
        {
            return File.Exists(given) ? Path.GetFullPath(given) : throw new InvalidOperationException($"no collector at {given}");
        }

        // With PROFEFE_ARTIFACTS the outputs are <artifacts>/bin/<project>/<config>/; otherwise
        // <project dir>/bin/<Config>/<tfm>/ with src/ and bench/ side by side.
        var driverDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string[] candidates =
        [
            Path.Combine(driverDirectory.Parent?.Parent?.FullName ?? "", "Profefe.Cli", driverDirectory.Name, "profefe.dll"),
            Path.Combine(driverDirectory.Parent?.Parent?.Parent?.Parent?.Parent?.FullName ?? "", "src", "Profefe.Cli", "bin",
                driverDirectory.Parent?.Name ?? "", driverDirectory.Name, "profefe.dll"),
        ];
        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"no built profefe.dll found (looked at {string.Join(", ", candidates)}); pass --collector-dll PATH");
    }
}
