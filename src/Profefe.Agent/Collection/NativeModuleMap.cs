using System.Globalization;

namespace Profefe.Agent.Collection;

/// <summary>
/// The file-backed address ranges of a process (<c>/proc/PID/maps</c>), to name the module of code the runtime
/// cannot name, such as precompiled stubs and native libraries.
/// </summary>
internal sealed class NativeModuleMap
{
    private readonly ulong[] _starts;
    private readonly ulong[] _ends;
    private readonly string[] _names;

    private NativeModuleMap(ulong[] starts, ulong[] ends, string[] names)
    {
        _starts = starts;
        _ends = ends;
        _names = names;
    }

    /// <summary>Reads the process's maps; null when they cannot be read (not Linux, process gone, no permission).</summary>
    public static NativeModuleMap? TryLoad(int processId)
    {
        try
        {
            var path = $"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/maps";
            return File.Exists(path) ? Parse(File.ReadLines(path)) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Parses maps lines: "start-end perms offset dev inode path".</summary>
    public static NativeModuleMap Parse(IEnumerable<string> lines)
    {
        var entries = new List<(ulong Start, ulong End, string Name)>();
        foreach (var line in lines)
        {
            var span = line.AsSpan();
            var dash = span.IndexOf('-');
            var space = span.IndexOf(' ');
            if (dash <= 0 || space <= dash)
            {
                continue;
            }

            var pathStart = span.IndexOf('/');
            if (pathStart < 0)
            {
                continue;
            }

            if (!ulong.TryParse(span[..dash], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var start)
                || !ulong.TryParse(span[(dash + 1)..space], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var end))
            {
                continue;
            }

            var path = span[pathStart..].TrimEnd();
            const string Deleted = " (deleted)";
            if (path.EndsWith(Deleted, StringComparison.Ordinal))
            {
                path = path[..^Deleted.Length];
            }

            entries.Add((start, end, Path.GetFileName(path.ToString())));
        }

        entries.Sort((a, b) => a.Start.CompareTo(b.Start));
        var starts = new ulong[entries.Count];
        var ends = new ulong[entries.Count];
        var names = new string[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            (starts[i], ends[i], names[i]) = entries[i];
        }

        return new NativeModuleMap(starts, ends, names);
    }

    /// <summary>The file name of the module mapped at <paramref name="address"/>, or null.</summary>
    public string? FindModule(ulong address)
    {
        var index = Array.BinarySearch(_starts, address);
        if (index < 0)
        {
            index = ~index - 1;
        }

        return index >= 0 && address < _ends[index] ? _names[index] : null;
    }
}
