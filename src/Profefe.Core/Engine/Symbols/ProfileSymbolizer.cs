using System.Runtime.InteropServices;
using System.Text;
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
    private const int StringLabel = 1;
    private const int NumberLabel = 2;

    private readonly SymbolTable _table;
    private readonly Dictionary<Mapping, int> _mappings = new(ReferenceEqualityComparer.Instance);
    private readonly ProfileTableIds<Function> _functions = new();
    private readonly ProfileTableIds<Location> _locations = new();

    // A decoded profile holds one string instance per entry of its string table, and names repeat (a file's
    // functions, a name that is also the system name): by instance is cheaper than hashing their text again.
    private readonly Dictionary<string, int> _strings = new(ReferenceEqualityComparer.Instance);
    private readonly List<long> _key = [];
    private long[] _locationKey = new long[12];

    // The same per profile for a profile read in place (ProfileTables): symbol ids by string index and by
    // position in each table (ids there are positions + 1), -1 until first needed.
    private int[] _stringIds = [];
    private int[] _mappingIds = [];
    private int[] _functionIds = [];
    private int[] _locationIds = [];
    private char[] _chars = new char[256];
    private ulong[] _previousIds = new ulong[64];
    private int[] _previousNodes = new int[64];
    private int _previousDepth;
    private string[] _labelKeys = new string[8];
    private long[] _labelKeyIndices = new long[8];
    private int[] _labelKeyOf = new int[8];
    private int[] _labelKinds = new int[8];

    public ProfileSymbolizer(SymbolTable table) => _table = table;

    /// <summary>
    /// The row of a profile read in place, equal to <see cref="Symbolize(Profile, ProfileId, DateTime)"/> of the
    /// decoded profile (same ids, symbols added to the table in the same order) without building the model.
    /// </summary>
    /// <exception cref="ProfileFormatException">a sample's value count differs from the sample types'.</exception>
    public ProfileRow Symbolize(ProfileTables tables, ProfileId id, DateTime createdAt)
    {
        ArgumentNullException.ThrowIfNull(tables);
        Reset(ref _stringIds, tables.StringCount);
        Reset(ref _mappingIds, tables.MappingCount);
        Reset(ref _functionIds, tables.FunctionCount);
        Reset(ref _locationIds, tables.LocationCount);
        _previousDepth = 0;
        var header = Header(tables);
        var width = tables.SampleTypeCount;
        var count = tables.SampleCount;
        var stacks = new int[count];
        var labelSets = new int[count];
        var values = new long[count * width];
        for (var i = 0; i < count; i++)
        {
            var sample = tables.Sample(i);
            if (sample.Values.Length != width)
            {
                throw new ProfileFormatException($"mismatch: sample has {sample.Values.Length} values vs. {width} types");
            }

            sample.Values.CopyTo(values.AsSpan(i * width));
            stacks[i] = Stack(tables, sample.LocationIds);
            labelSets[i] = LabelSet(tables, sample.Labels);
        }

        return new ProfileRow(id, createdAt, header, stacks, labelSets, values);
    }

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

    private static void Reset(ref int[] ids, int count)
    {
        if (ids.Length < count)
        {
            ids = new int[Math.Max(count, ids.Length * 2)];
        }

        ids.AsSpan(0, count).Fill(-1);
    }

    // Each method below mirrors its twin above for the model, field for field and in the same order, so that
    // both add new symbols to the table in the same order and give the same ids.
    private ProfileHeader Header(ProfileTables tables)
    {
        _key.Clear();
        _key.Add(tables.SampleTypeCount);
        for (var i = 0; i < tables.SampleTypeCount; i++)
        {
            var (type, unit) = tables.SampleType(i);
            _key.Add(String(tables, type));
            _key.Add(String(tables, unit));
        }

        var periodType = tables.PeriodType;
        _key.Add(periodType is null ? 0 : 1);
        _key.Add(String(tables, periodType?.Type ?? 0));
        _key.Add(String(tables, periodType?.Unit ?? 0));
        var layout = _table.Layouts.Intern<ReadOnlySpan<long>>(CollectionsMarshal.AsSpan(_key));
        var comments = new int[tables.Comments.Length];
        for (var i = 0; i < comments.Length; i++)
        {
            comments[i] = String(tables, tables.Comments[i]);
        }

        return new ProfileHeader(
            layout, tables.Period, tables.TimeNanos, tables.DurationNanos, String(tables, tables.DefaultSampleType),
            String(tables, tables.DropFrames), String(tables, tables.KeepFrames), String(tables, tables.DocUrl), comments);
    }

    // Samples of one profile mostly share their outer callers: while a sample's stack, from the root, has the
    // previous sample's locations, its nodes are the previous sample's, without interning them again.
    private int Stack(ProfileTables tables, ReadOnlySpan<ulong> locationIds)
    {
        var depth = locationIds.Length;
        if (_previousIds.Length < depth)
        {
            var size = Math.Max(depth, _previousIds.Length * 2);
            Array.Resize(ref _previousIds, size);
            Array.Resize(ref _previousNodes, size);
        }

        var node = -1;
        var shared = true;
        for (var level = 0; level < depth; level++)
        {
            var id = locationIds[depth - 1 - level];
            if (shared && level < _previousDepth && _previousIds[level] == id)
            {
                node = _previousNodes[level];
                continue;
            }

            shared = false;
            node = _table.Stacks.Intern(new StackNode(node, Location(tables, (int)(id - 1))));
            _previousIds[level] = id;
            _previousNodes[level] = node;
        }

        _previousDepth = depth;
        return node + 1;
    }

    private int Location(ProfileTables tables, int position)
    {
        ref var id = ref _locationIds[position];
        if (id >= 0)
        {
            return id;
        }

        var location = tables.Location(position);
        var lines = location.Lines;
        var length = 3 + (3 * lines.Length);
        if (_locationKey.Length < length)
        {
            _locationKey = new long[Math.Max(length, _locationKey.Length * 2)];
        }

        var key = _locationKey.AsSpan(0, length);
        key[0] = location.MappingId - 1 < (ulong)tables.MappingCount ? Mapping(tables, (int)(location.MappingId - 1)) + 1 : 0;
        key[1] = (long)location.Address;
        key[2] = location.IsFolded ? 1 : 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            key[3 + (3 * i)] = line.FunctionId - 1 < (ulong)tables.FunctionCount ? Function(tables, (int)(line.FunctionId - 1)) + 1 : 0;
            key[4 + (3 * i)] = line.Line;
            key[5 + (3 * i)] = line.Column;
        }

        id = _table.Locations.Intern<ReadOnlySpan<long>>(key);
        return id;
    }

    private int Function(ProfileTables tables, int position)
    {
        ref var id = ref _functionIds[position];
        if (id < 0)
        {
            var function = tables.Function(position);
            ReadOnlySpan<long> key = [String(tables, function.Name), String(tables, function.SystemName), String(tables, function.Filename), function.StartLine];
            id = _table.Functions.Intern(key);
        }

        return id;
    }

    private int Mapping(ProfileTables tables, int position)
    {
        ref var id = ref _mappingIds[position];
        if (id < 0)
        {
            var mapping = tables.Mapping(position);
            var flags = (mapping.HasFunctions ? 1 : 0) | (mapping.HasFilenames ? 2 : 0) | (mapping.HasLineNumbers ? 4 : 0) | (mapping.HasInlineFrames ? 8 : 0);
            ReadOnlySpan<long> key = [(long)mapping.Start, (long)mapping.Limit, (long)mapping.Offset, String(tables, mapping.File), String(tables, mapping.BuildId), flags];
            id = _table.Mappings.Intern(key);
        }

        return id;
    }

    // The decoder's grouping (Go's): a label with a string value is a string label, else one with a number or a
    // unit is numeric, else it is dropped; labels group by key text in order of the key's first kept label, values
    // in order; a key with a unit on any number gets units parallel to its numbers, "" where a number had none.
    private int LabelSet(ProfileTables tables, ReadOnlySpan<ProtoLabel> labels)
    {
        if (labels.IsEmpty)
        {
            return 0;
        }

        if (_labelKinds.Length < labels.Length)
        {
            var size = Math.Max(labels.Length, _labelKinds.Length * 2);
            _labelKinds = new int[size];
            _labelKeyOf = new int[size];
            _labelKeys = new string[size];
            _labelKeyIndices = new long[size];
        }

        var keyCount = 0;
        var stringKeys = 0;
        var numberKeys = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            var label = labels[i];
            var kind = label.Str != 0 ? StringLabel : label.Num != 0 || label.NumUnit != 0 ? NumberLabel : 0;
            _labelKinds[i] = kind;
            if (kind == 0)
            {
                continue;
            }

            var text = tables.Text(label.Key);
            var key = 0;
            while (key < keyCount && !string.Equals(_labelKeys[key], text, StringComparison.Ordinal))
            {
                key++;
            }

            if (key == keyCount)
            {
                _labelKeys[key] = text;
                _labelKeyIndices[key] = label.Key;
                keyCount++;
            }

            _labelKeyOf[i] = key;
            if (kind == StringLabel && !HasKind(labels, i, key, StringLabel))
            {
                stringKeys++;
            }
            else if (kind == NumberLabel && !HasKind(labels, i, key, NumberLabel))
            {
                numberKeys++;
            }
        }

        if (keyCount == 0)
        {
            return 0;
        }

        _key.Clear();
        _key.Add(stringKeys);
        for (var key = 0; key < keyCount && stringKeys > 0; key++)
        {
            var count = CountOf(labels, key, StringLabel, out _);
            if (count == 0)
            {
                continue;
            }

            _key.Add(String(tables, _labelKeyIndices[key]));
            _key.Add(count);
            for (var i = 0; i < labels.Length; i++)
            {
                if (_labelKinds[i] == StringLabel && _labelKeyOf[i] == key)
                {
                    _key.Add(String(tables, labels[i].Str));
                }
            }
        }

        _key.Add(numberKeys);
        for (var key = 0; key < keyCount && numberKeys > 0; key++)
        {
            var count = CountOf(labels, key, NumberLabel, out var hasUnit);
            if (count == 0)
            {
                continue;
            }

            _key.Add(String(tables, _labelKeyIndices[key]));
            _key.Add(count);
            for (var i = 0; i < labels.Length; i++)
            {
                if (_labelKinds[i] == NumberLabel && _labelKeyOf[i] == key)
                {
                    _key.Add(labels[i].Num);
                }
            }

            _key.Add(hasUnit ? count : -1);
            for (var i = 0; i < labels.Length && hasUnit; i++)
            {
                if (_labelKinds[i] == NumberLabel && _labelKeyOf[i] == key)
                {
                    _key.Add(String(tables, labels[i].NumUnit));
                }
            }
        }

        return _table.LabelSets.Intern<ReadOnlySpan<long>>(CollectionsMarshal.AsSpan(_key));
    }

    // Whether a label before the i-th already gave key its kind.
    private bool HasKind(ReadOnlySpan<ProtoLabel> labels, int i, int key, int kind)
    {
        for (var j = 0; j < i && j < labels.Length; j++)
        {
            if (_labelKinds[j] == kind && _labelKeyOf[j] == key)
            {
                return true;
            }
        }

        return false;
    }

    private int CountOf(ReadOnlySpan<ProtoLabel> labels, int key, int kind, out bool hasUnit)
    {
        var count = 0;
        hasUnit = false;
        for (var i = 0; i < labels.Length; i++)
        {
            if (_labelKinds[i] == kind && _labelKeyOf[i] == key)
            {
                count++;
                hasUnit |= labels[i].NumUnit != 0;
            }
        }

        return count;
    }

    // Interned from the UTF-8 bytes: a string is built only when the table does not have it yet.
    private int String(ProfileTables tables, long index)
    {
        ref var id = ref _stringIds[index];
        if (id < 0)
        {
            var utf8 = tables.Utf8(index);
            if (_chars.Length < utf8.Length)
            {
                _chars = new char[Math.Max(utf8.Length, _chars.Length * 2)];
            }

            // UTF-8 never needs more UTF-16 chars than it has bytes; invalid bytes become U+FFFD, as in GetString.
            id = _table.Strings.Intern<ReadOnlySpan<char>>(_chars.AsSpan(0, Encoding.UTF8.GetChars(utf8, _chars)));
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
