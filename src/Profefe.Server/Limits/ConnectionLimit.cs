using System.Globalization;

namespace Profefe.Server.Limits;

/// <summary>
/// How many connections Kestrel may hold open. Past the process's open-file limit, accept() fails and the store
/// cannot open files, so the default keeps half the descriptors for everything that is not a connection.
/// </summary>
internal static class ConnectionLimit
{
    private const int Ceiling = 10_000;
    private const int WithoutKnownLimit = 1_000;

    /// <param name="configured">Collector:MaxConnections; 0 derives it from the open-file limit.</param>
    public static long Resolve(int configured) =>
        configured > 0 ? configured : OpenFileLimit() is { } limit ? Math.Clamp(limit / 2, 16, Ceiling) : WithoutKnownLimit;

    /// <summary>The soft "Max open files" of this process (Linux /proc/self/limits), or null when it is unknown.</summary>
    internal static long? OpenFileLimit()
    {
        const string path = "/proc/self/limits";
        if (!File.Exists(path))
        {
            return null;
        }

        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                continue;
            }

            var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft) ? soft : null;
        }

        return null;
    }
}
