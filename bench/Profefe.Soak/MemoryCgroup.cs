using System.Globalization;

namespace Profefe.Soak;

/// <summary>
/// A child memory cgroup with a hard limit, made beside (under) the soak's own cgroup so everything stays accounted
/// where it was: cgroup v2 (<c>memory.max</c>, <c>memory.peak</c>) or v1's memory controller
/// (<c>memory.limit_in_bytes</c>, <c>memory.max_usage_in_bytes</c>). Needs root; removed on dispose.
/// </summary>
internal sealed class MemoryCgroup : IDisposable
{
    private MemoryCgroup(string directory, bool isV2)
    {
        Directory = directory;
        IsV2 = isV2;
    }

    public string Directory { get; }

    public bool IsV2 { get; }

    public string Describe => $"{(IsV2 ? "cgroup v2" : "cgroup v1 memory controller")} {Directory}";

    public static MemoryCgroup Create(long limitBytes)
    {
        var name = $"profefe-soak-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}";
        var own = File.ReadAllLines("/proc/self/cgroup");
        if (File.Exists("/sys/fs/cgroup/cgroup.controllers"))
        {
            var path = own.First(l => l.StartsWith("0::", StringComparison.Ordinal))[3..];
            var directory = Path.Combine("/sys/fs/cgroup" + path.TrimEnd('/'), name);
            System.IO.Directory.CreateDirectory(directory);
            File.WriteAllText(Path.Combine(directory, "memory.max"), limitBytes.ToString(CultureInfo.InvariantCulture));
            File.WriteAllText(Path.Combine(directory, "memory.swap.max"), "0");
            return new MemoryCgroup(directory, isV2: true);
        }

        var line = own.FirstOrDefault(l => l.Split(':')[1].Split(',').Contains("memory"))
            ?? throw new InvalidOperationException("no cgroup v2 and no v1 memory controller: cannot limit the collector's memory");
        var v1 = Path.Combine("/sys/fs/cgroup/memory" + line.Split(':')[2].TrimEnd('/'), name);
        System.IO.Directory.CreateDirectory(v1);
        File.WriteAllText(Path.Combine(v1, "memory.limit_in_bytes"), limitBytes.ToString(CultureInfo.InvariantCulture));
        return new MemoryCgroup(v1, isV2: false);
    }

    /// <summary>The cgroup's peak memory use (page cache included, as the kernel counts it against the limit).</summary>
    public long PeakBytes() => ReadLong(IsV2 ? "memory.peak" : "memory.max_usage_in_bytes");

    public long CurrentBytes() => ReadLong(IsV2 ? "memory.current" : "memory.usage_in_bytes");

    /// <summary>How often the kernel's OOM killer struck inside the cgroup.</summary>
    public long OomKills()
    {
        var file = Path.Combine(Directory, IsV2 ? "memory.events" : "memory.oom_control");
        foreach (var line in File.ReadLines(file))
        {
            if (line.StartsWith("oom_kill ", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(9), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"could not remove {Directory}: {e.Message}");
        }
    }

    private long ReadLong(string file)
    {
        var path = Path.Combine(Directory, file);
        return File.Exists(path) ? long.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture) : -1;
    }
}
