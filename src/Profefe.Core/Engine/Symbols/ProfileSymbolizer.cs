using System.Runtime.InteropServices;
using Profefe.Core.Profiles;
using Profefe.Pprof;

namespace Profefe.Core.Engine.Symbols;

/// <summary>
/// Turns a decoded profile into a <see cref="ProfileRow"/> against its service's <see cref="SymbolTable"/>,
/// adding the symbols the table does not have yet. Symbols are matched by their full content, so a rebuilt
/// profile has the pushed one's addresses, lines and labels. Call with the table's <see cref="SymbolTable.Sync"/> held.
/// </summary>
public sealed class ProfileSymbolizer
{
    private readonly SymbolTable _table;
    private readonly Dictionary<Mapping, int> _mappings = new(ReferenceEqualityComparer.Instance);
    private readonly ProfileTableIds<Function> _functions = new();
    private readonly ProfileTableIds<Location> _locations = new();

    // A decoded profile holds one string instance per entry of its string table, and names repeat (a file's
    // functions, a name that is also the system name): by instance is cheaper than hashing their text again.
    private readonly Dictionary<string, int> _strings = new(ReferenceEqualityComparer.Instance);
    private readonly List<long> _key = [];
    private long[] _locationKey = new long[12];

    public ProfileSymbolizer(SymbolTable table) => _table = table;

    /// <exception cref="ProfileFormatException">a sample's value count differs from the sample types'.</exception>
    public ProfileRow Symbolize(Profile profile, ProfileId id, DateTime createdAt)
    {
        ArgumentNullException.ThrowIfNull(profile);
        _locations.Start(profile.Locations);
        _functions.Start(profile.Functions);
        try
        {
            var header = Header(profile);
            var width = profile.SampleTypes.Count;
            var samples = CollectionsMarshal.AsSpan(profile.Samples);
            var stacks = new int[samples.Length];
            var labelSets = new int[samples.Length];
            var values = new long[samples.Length * width];
            for (var i = 0; i < samples.Length; i++)
            {
                var sample = samples[i];
                if (sample.Values.Length != width)
                {
                    throw new ProfileFormatException($"mismatch: sample has {sample.Values.Length} values vs. {width} types");
                }

                sample.Values.CopyTo(values, i * width);
                stacks[i] = Stack(sample.Locations);
                labelSets[i] = LabelSet(sample);
            }

            return new ProfileRow(id, createdAt, header, stacks, labelSets, values);
        }
        finally
        {
            _mappings.Clear();
            _functions.Clear();
            _locations.Clear();
            _strings.Clear();
        }
    }

    private ProfileHeader Header(Profile profile)
    {
        _key.Clear();
        _key.Add(profile.SampleTypes.Count);
        foreach (var type in profile.SampleTypes)
        {
            _key.Add(String(type.Type));
            _key.Add(String(type.Unit));
        }

        _key.Add(profile.PeriodType is null ? 0 : 1);
        _key.Add(String(profile.PeriodType?.Type ?? ""));
        _key.Add(String(profile.PeriodType?.Unit ?? ""));
        var layout = _table.Layouts.Intern<ReadOnlySpan<long>>(CollectionsMarshal.AsSpan(_key));
        var comments = new int[profile.Comments.Count];
        for (var i = 0; i < comments.Length; i++)
        {
            comments[i] = String(profile.Comments[i]);
        }

        return new ProfileHeader(
            layout, profile.Period, profile.TimeNanos, profile.DurationNanos, String(profile.DefaultSampleType),
            String(profile.DropFrames), String(profile.KeepFrames), String(profile.DocUrl), comments);
    }

    private int Stack(Location[] locations)
    {
        // Leaf first in pprof; the tree grows from the root, so walk from the end.
        var node = -1;
        for (var i = locations.Length - 1; i >= 0; i--)
        {
            node = _table.Stacks.Intern(new StackNode(node, Location(locations[i])));
        }

        return node + 1;
    }

    private int Location(Location location)
    {
        if (_locations.TryGet(location, location.Id, out var id))
        {
            return id;
        }

        var length = 3 + (3 * location.Lines.Length);
        if (_locationKey.Length < length)
        {
            _locationKey = new long[Math.Max(length, _locationKey.Length * 2)];
        }

        var key = _locationKey.AsSpan(0, length);
        key[0] = location.Mapping is null ? 0 : Mapping(location.Mapping) + 1;
        key[1] = (long)location.Address;
        key[2] = location.IsFolded ? 1 : 0;
        for (var i = 0; i < location.Lines.Length; i++)
        {
            var line = location.Lines[i];
            key[3 + (3 * i)] = line.Function is null ? 0 : Function(line.Function) + 1;
            key[4 + (3 * i)] = line.LineNumber;
            key[5 + (3 * i)] = line.Column;
        }

        id = _table.Locations.Intern<ReadOnlySpan<long>>(key);
        _locations.Set(location, location.Id, id);
        return id;
    }

    private int Function(Function function)
    {
        if (!_functions.TryGet(function, function.Id, out var id))
        {
            ReadOnlySpan<long> key = [String(function.Name), String(function.SystemName), String(function.Filename), function.StartLine];
            id = _table.Functions.Intern(key);
            _functions.Set(function, function.Id, id);
        }

        return id;
    }

    private int Mapping(Mapping mapping)
    {
        if (!_mappings.TryGetValue(mapping, out var id))
        {
            var flags = (mapping.HasFunctions ? 1 : 0) | (mapping.HasFilenames ? 2 : 0) | (mapping.HasLineNumbers ? 4 : 0) | (mapping.HasInlineFrames ? 8 : 0);
            ReadOnlySpan<long> key = [(long)mapping.Start, (long)mapping.Limit, (long)mapping.Offset, String(mapping.File), String(mapping.BuildId), flags];
            id = _table.Mappings.Intern(key);
            _mappings[mapping] = id;
        }

        return id;
    }

    private int LabelSet(Sample sample)
    {
        if (sample.Labels is not { Count: > 0 } && sample.NumLabels is not { Count: > 0 })
        {
            return 0;
        }

        _key.Clear();
        _key.Add(sample.Labels?.Count ?? 0);
        if (sample.Labels is not null)
        {
            foreach (var (key, values) in sample.Labels)
            {
                _key.Add(String(key));
                _key.Add(values.Length);
                foreach (var value in values)
                {
                    _key.Add(String(value));
                }
            }
        }

        _key.Add(sample.NumLabels?.Count ?? 0);
        if (sample.NumLabels is not null)
        {
            foreach (var (key, numbers) in sample.NumLabels)
            {
                _key.Add(String(key));
                _key.Add(numbers.Length);
                _key.AddRange(numbers);
                var units = sample.NumUnits?.GetValueOrDefault(key);
                _key.Add(units is null ? -1 : units.Length);
                foreach (var unit in units ?? [])
                {
                    _key.Add(String(unit));
                }
            }
        }

        return _table.LabelSets.Intern<ReadOnlySpan<long>>(CollectionsMarshal.AsSpan(_key));
    }

    private int String(string value)
    {
        ref var id = ref CollectionsMarshal.GetValueRefOrAddDefault(_strings, value, out var seen);
        if (!seen)
        {
            id = _table.Strings.Intern(value);
        }

        return id;
    }

    /// <summary>
    /// The symbol ids of one profile's functions or locations. Go numbers them 1, 2, … in table order, so an
    /// entry whose id - 1 is its own position is found by position, without hashing; any other is found by instance.
    /// </summary>
    private sealed class ProfileTableIds<T>
        where T : class
    {
        private readonly Dictionary<T, int> _byInstance = new(ReferenceEqualityComparer.Instance);
        private List<T> _entries = [];
        private int[] _byPosition = [];

        public void Start(List<T> entries)
        {
            _entries = entries;
            if (_byPosition.Length < entries.Count)
            {
                _byPosition = new int[Math.Max(entries.Count, _byPosition.Length * 2)];
            }

            _byPosition.AsSpan(0, entries.Count).Fill(-1);
        }

        public bool TryGet(T entry, ulong id, out int symbol)
        {
            var position = PositionOf(entry, id);
            if (position >= 0)
            {
                symbol = _byPosition[position];
                return symbol >= 0;
            }

            return _byInstance.TryGetValue(entry, out symbol);
        }

        public void Set(T entry, ulong id, int symbol)
        {
            var position = PositionOf(entry, id);
            if (position >= 0)
            {
                _byPosition[position] = symbol;
            }
            else
            {
                _byInstance[entry] = symbol;
            }
        }

        public void Clear()
        {
            _byInstance.Clear();
            _entries = [];
        }

        private int PositionOf(T entry, ulong id) =>
            id - 1 < (ulong)_entries.Count && ReferenceEquals(_entries[(int)(id - 1)], entry) ? (int)(id - 1) : -1;
    }
}
