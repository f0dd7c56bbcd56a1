using System.Runtime.InteropServices;

namespace Profefe.Pprof;

/// <summary>One function's line of a <see cref="TopReport"/>.</summary>
/// <param name="Flat">The value of samples whose leaf frame is this function.</param>
/// <param name="Cum">The value of samples with this function anywhere in the stack, counted once per sample.</param>
public sealed record TopEntry(string Name, long Flat, long Cum);

/// <summary>
/// Flat and cumulative value per function for one sample type, sorted as <c>go tool pprof -top</c> sorts
/// them: by absolute flat value descending, then by name, then by absolute cumulative value descending.
/// </summary>
public sealed class TopReport
{
    private TopReport(SampleType sampleType, long total, IReadOnlyList<TopEntry> entries)
    {
        SampleType = sampleType;
        Total = total;
        Entries = entries;
    }

    public SampleType SampleType { get; }

    /// <summary>
    /// What go tool pprof calls the total: the sum of absolute sample values, or for a diff
    /// (see <see cref="ProfileDiff"/>) the sum over the base's samples.
    /// </summary>
    public long Total { get; }

    public IReadOnlyList<TopEntry> Entries { get; }

    /// <param name="sampleType">
    /// The <see cref="SampleType.Type"/> to report; null takes the profile's default sample type, else the last one, as go tool pprof does.
    /// </param>
    /// <exception cref="ArgumentException">the profile has no such sample type.</exception>
    public static TopReport Create(Profile profile, string? sampleType = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var index = SampleIndexOf(profile, sampleType);
        var builder = new Builder();
        var total = 0L;
        var baseTotal = 0L;
        foreach (var sample in CollectionsMarshal.AsSpan(profile.Samples))
        {
            var value = sample.Values[index];
            var magnitude = Math.Abs(value);
            total += magnitude;
            if (ProfileDiff.IsBaseSample(sample))
            {
                baseTotal += magnitude;
            }

            builder.AddSample(sample.Locations, value);
        }

        return new TopReport(profile.SampleTypes[index], baseTotal > 0 ? baseTotal : total, builder.Entries());
    }

    private static int SampleIndexOf(Profile profile, string? sampleType)
    {
        var types = profile.SampleTypes;
        if (types.Count == 0)
        {
            throw new ArgumentException("the profile has no sample types", nameof(profile));
        }

        var wanted = sampleType ?? profile.DefaultSampleType;
        if (string.IsNullOrEmpty(wanted))
        {
            return types.Count - 1;
        }

        for (var i = 0; i < types.Count; i++)
        {
            if (types[i].Type == wanted)
            {
                return i;
            }
        }

        if (sampleType is null)
        {
            // A default sample type that names nothing: go tool pprof falls back to the last one.
            return types.Count - 1;
        }

        throw new ArgumentException($"sample_index \"{sampleType}\" must be one of: [{string.Join(' ', types.ConvertAll(t => t.Type))}]", nameof(sampleType));
    }

    private sealed class Builder
    {
        private readonly Dictionary<string, int> _nodeByName = new(StringComparer.Ordinal);
        private readonly Dictionary<Location, int[]> _nodesByLocation = new(ReferenceEqualityComparer.Instance);
        private readonly List<string> _names = [];
        private long[] _flat = new long[64];
        private long[] _cum = new long[64];
        private int[] _seen = new int[64];
        private int _stamp;

        public void AddSample(Location[] stack, long value)
        {
            if (stack.Length == 0)
            {
                return;
            }

            // Recursion puts a function on the stack more than once; its cum counts the sample once.
            _stamp++;
            foreach (var location in stack)
            {
                foreach (var node in NodesOf(location))
                {
                    if (_seen[node] != _stamp)
                    {
                        _seen[node] = _stamp;
                        _cum[node] += value;
                    }
                }
            }

            _flat[NodesOf(stack[0])[0]] += value;
        }

        public List<TopEntry> Entries()
        {
            var entries = new List<TopEntry>(_names.Count);
            for (var i = 0; i < _names.Count; i++)
            {
                entries.Add(new TopEntry(_names[i], _flat[i], _cum[i]));
            }

            entries.Sort(static (a, b) =>
            {
                var byFlat = Math.Abs(b.Flat).CompareTo(Math.Abs(a.Flat));
                if (byFlat != 0)
                {
                    return byFlat;
                }

                var byName = string.CompareOrdinal(a.Name, b.Name);
                return byName != 0 ? byName : Math.Abs(b.Cum).CompareTo(Math.Abs(a.Cum));
            });
            return entries;
        }

        // A location stands for its lines, inlined callee first; one without lines for its binary.
        private int[] NodesOf(Location location)
        {
            if (_nodesByLocation.TryGetValue(location, out var nodes))
            {
                return nodes;
            }

            if (location.Lines.Length == 0)
            {
                nodes = [NodeOf(NameOf(null, location))];
            }
            else
            {
                nodes = new int[location.Lines.Length];
                for (var i = 0; i < nodes.Length; i++)
                {
                    nodes[i] = NodeOf(NameOf(location.Lines[i].Function, location));
                }
            }

            _nodesByLocation.Add(location, nodes);
            return nodes;
        }

        // go tool pprof's names at function granularity: the function name, else the binary's base name.
        private static string NameOf(Function? function, Location location)
        {
            if (function is { Name.Length: > 0 })
            {
                return function.Name;
            }

            return location.Mapping is { File.Length: > 0 } mapping ? "[" + Path.GetFileName(mapping.File) + "]" : "<unknown>";
        }

        private int NodeOf(string name)
        {
            if (_nodeByName.TryGetValue(name, out var node))
            {
                return node;
            }

            node = _names.Count;
            _names.Add(name);
            _nodeByName.Add(name, node);
            if (node == _flat.Length)
            {
                Array.Resize(ref _flat, node * 2);
                Array.Resize(ref _cum, node * 2);
                Array.Resize(ref _seen, node * 2);
            }

            return node;
        }
    }
}
