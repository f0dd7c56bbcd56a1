using System.Globalization;
using Profefe.Pprof;

namespace Profefe.Core.Views;

/// <summary>How a view names a frame whose location has no function name.</summary>
public enum FrameNaming
{
    /// <summary>By address and binary, "0x4a3f2c (app)": each unsymbolized address is a frame of its own (flame graphs, the UI).</summary>
    ByAddress,

    /// <summary>
    /// As <c>go tool pprof -top</c> names functions: the function's name, else "[binary]", else "&lt;unknown&gt;", so all
    /// unsymbolized addresses of a binary are one function (the CLI's <c>profefe top</c>, compared with go's output).
    /// </summary>
    ByBinary,
}

/// <summary>
/// Interns frame names (function names, or addresses for locations without symbols) and caches each location's
/// frames root-first, so a view walks samples without building strings per sample.
/// </summary>
internal sealed class FrameTable(FrameNaming naming = FrameNaming.ByAddress)
{
    private const ulong MaxIndexedId = 1 << 22;

    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<Location, int[]> _locationFrames = new(ReferenceEqualityComparer.Instance);
    private int[]?[] _byId = new int[]?[256];
    private Location?[] _byIdLocation = new Location?[256];

    public List<string> Names { get; } = [];

    public List<string> Files { get; } = [];

    public int Intern(string name, string file = "")
    {
        if (!_ids.TryGetValue(name, out var id))
        {
            id = Names.Count;
            _ids.Add(name, id);
            Names.Add(name);
            Files.Add(file);
        }

        return id;
    }

    /// <summary>The location's frames, outermost caller first (its lines are stored inlined callee first).</summary>
    public int[] FramesOf(Location location)
    {
        // Decoded profiles number their locations 1..n, so an array indexed by id answers most lookups; the
        // reference check keeps two profiles (the sides of a diff) with the same ids apart.
        var id = location.Id;
        if (id < (ulong)_byId.Length && ReferenceEquals(_byIdLocation[id], location))
        {
            return _byId[id]!;
        }

        if (!_locationFrames.TryGetValue(location, out var frames))
        {
            frames = ComputeFrames(location);
            _locationFrames.Add(location, frames);
        }

        if (id < MaxIndexedId)
        {
            if (id >= (ulong)_byId.Length)
            {
                var size = Math.Max((int)id + 1, _byId.Length * 2);
                Array.Resize(ref _byId, size);
                Array.Resize(ref _byIdLocation, size);
            }

            if (_byIdLocation[id] is null)
            {
                _byId[id] = frames;
                _byIdLocation[id] = location;
            }
        }

        return frames;
    }

    private int[] ComputeFrames(Location location)
    {
        int[] frames;
        if (location.Lines.Length == 0)
        {
            frames = [Intern(naming == FrameNaming.ByBinary ? BinaryName(null, location) : AddressName(location))];
        }
        else
        {
            frames = new int[location.Lines.Length];
            for (var i = 0; i < frames.Length; i++)
            {
                var line = location.Lines[location.Lines.Length - 1 - i];
                var function = line.Function;
                var name = naming == FrameNaming.ByBinary ? BinaryName(function, location)
                    : function is null ? AddressName(location)
                    : function.Name.Length > 0 ? function.Name
                    : function.SystemName.Length > 0 ? function.SystemName
                    : AddressName(location);
                frames[i] = Intern(name, function?.Filename ?? "");
            }
        }

        return frames;
    }

    private static string BinaryName(Function? function, Location location)
    {
        if (function is { Name.Length: > 0 })
        {
            return function.Name;
        }

        return location.Mapping is { File.Length: > 0 } mapping ? "[" + Path.GetFileName(mapping.File) + "]" : "<unknown>";
    }

    private static string AddressName(Location location)
    {
        var address = "0x" + location.Address.ToString("x", CultureInfo.InvariantCulture);
        return location.Mapping is { File.Length: > 0 } mapping ? address + " (" + Path.GetFileName(mapping.File) + ")" : address;
    }
}
