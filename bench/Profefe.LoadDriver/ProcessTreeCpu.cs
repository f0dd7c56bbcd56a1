using System.Globalization;

namespace Profefe.LoadDriver;

/// <summary>
/// CPU used so far by processes and every descendant of theirs, from /proc: PostgreSQL's postmaster and the
/// backends it forks, Ceph's daemons. On one machine their CPU is part of what a push through them costs, so the
/// driver reports it beside the collector's for the same step.
/// </summary>
internal sealed class ProcessTreeCpu(IReadOnlyCollection<int> roots)
{
    // USER_HZ, the unit of the times in /proc/<pid>/stat, is 100 on every Linux ABI .NET runs on.
    private const double TicksPerSecond = 100;

    public TimeSpan Read()
    {
        var parents = new Dictionary<int, int>();
        var ticks = new Dictionary<int, long>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // It exited between the listing and the read: its CPU is in its parent's reaped-children times now.
                continue;
            }

            // The command name may hold spaces and parentheses: the fields start after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            parents[pid] = int.Parse(fields[1], CultureInfo.InvariantCulture);

            // utime + stime, and cutime + cstime: children already reaped (a backend that closed) count once, in
            // their parent, while live ones count in their own row.
            ticks[pid] = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)
                + long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        }

        long total = 0;
        foreach (var (pid, own) in ticks)
        {
            if (InTree(pid, parents))
            {
                total += own;
            }
        }

        return TimeSpan.FromSeconds(total / TicksPerSecond);
    }

    private bool InTree(int pid, Dictionary<int, int> parents)
    {
        // pid 1 is every orphan's parent; no tree here climbs past it.
        for (var current = pid; current > 1; current = parents.GetValueOrDefault(current))
        {
            if (roots.Contains(current))
            {
                return true;
            }
        }

        return false;
    }
}
