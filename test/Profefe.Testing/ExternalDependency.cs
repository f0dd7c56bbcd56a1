namespace Profefe.Testing;

/// <summary>
/// Tests that need an outside program (PostgreSQL, Ceph RGW, Go, Chromium) call this when it is missing:
/// under CI=true they fail, because CI installs everything; elsewhere they skip with the reason.
/// </summary>
public static class ExternalDependency
{
    public static bool IsCi { get; } = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static void Unavailable(string reason)
    {
        if (IsCi)
        {
            Assert.Fail($"required under CI=true: {reason}");
        }

        Assert.Skip(reason);
    }

    /// <summary>Full path of an executable on PATH, or null.</summary>
    public static string? FindExecutable(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (dir.Length == 0)
            {
                continue;
            }

            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The path of <paramref name="name"/>, or fail/skip the test when it is not installed.</summary>
    public static string RequireExecutable(string name, string installHint)
    {
        var path = FindExecutable(name);
        if (path is null)
        {
            Unavailable($"{name} is not installed ({installHint})");
        }

        return path!;
    }
}
