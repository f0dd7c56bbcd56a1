using Profefe.Pprof;

namespace Profefe.Core.Engine.Symbols;

/// <summary>
/// Builds pprof profiles back from symbol ids: the inverse of <see cref="ProfileSymbolizer"/>. Each symbol
/// becomes one object the first time a profile refers to it (ids 1..N in that order), so a merge of many
/// stacks builds every location once. Call with the table's <see cref="SymbolTable.Sync"/> held.
/// </summary>
public sealed class ProfileMaterializer
{
    private readonly SymbolTable _table;
    private readonly Profile _profile = new();
    private readonly Dictionary<int, Mapping> _mappings = [];
    private readonly Dictionary<int, Function> _functions = [];
    private readonly Dictionary<int, Location> _locations = [];
    private readonly Dictionary<int, Location[]> _stacks = [];
    private readonly List<Location> _stack = [];

    /// <summary>Starts a profile of <paramref name="header"/>'s layout and fields.</summary>
    public ProfileMaterializer(SymbolTable table, ProfileHeader header)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(header);
        _table = table;
        var layout = table.Layouts[header.Layout].Values;
        var types = (int)layout[0];
        for (var i = 0; i < types; i++)
        {
            _profile.SampleTypes.Add(new SampleType(String(layout[1 + (2 * i)]), String(layout[2 + (2 * i)])));
        }

        var at = 1 + (2 * types);
        if (layout[at] != 0)
        {
            _profile.PeriodType = new SampleType(String(layout[at + 1]), String(layout[at + 2]));
        }

        _profile.Period = header.Period;
        _profile.TimeNanos = header.TimeNanos;
        _profile.DurationNanos = header.DurationNanos;
        _profile.DefaultSampleType = String(header.DefaultSampleType);
        _profile.DropFrames = String(header.DropFrames);
        _profile.KeepFrames = String(header.KeepFrames);
        _profile.DocUrl = String(header.DocUrl);
        foreach (var comment in header.Comments)
        {
            _profile.Comments.Add(String(comment));
        }
    }

    public void AddSample(int stack, int labelSet, ReadOnlySpan<long> values)
    {
        var sample = new Sample { Locations = Stack(stack), Values = values.ToArray() };
        if (labelSet != 0)
        {
            SetLabels(sample, _table.LabelSets[labelSet].Values);
        }

        _profile.Samples.Add(sample);
    }

    public void AddRow(ProfileRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var width = _profile.SampleTypes.Count;
        for (var i = 0; i < row.SampleCount; i++)
        {
            AddSample(row.Stacks[i], row.LabelSets[i], row.Values.AsSpan(i * width, width));
        }
    }

    public Profile ToProfile() => _profile;

    private Location[] Stack(int stack)
    {
        if (stack == 0)
        {
            return [];
        }

        if (_stacks.TryGetValue(stack, out var locations))
        {
            return locations;
        }

        _stack.Clear();
        for (var node = stack - 1; node >= 0; node = _table.Stacks[node].Parent)
        {
            _stack.Add(Location(_table.Stacks[node].Location));
        }

        locations = [.. _stack];
        _stacks[stack] = locations;
        return locations;
    }

    private Location Location(int id)
    {
        if (_locations.TryGetValue(id, out var location))
        {
            return location;
        }

        var key = _table.Locations[id].Values;
        var lines = new Line[(key.Length - 3) / 3];
        for (var i = 0; i < lines.Length; i++)
        {
            var function = key[3 + (3 * i)];
            lines[i] = new Line(function == 0 ? null : Function((int)function - 1), key[4 + (3 * i)], key[5 + (3 * i)]);
        }

        location = new Location
        {
            Id = (ulong)_profile.Locations.Count + 1,
            Mapping = key[0] == 0 ? null : Mapping((int)key[0] - 1),
            Address = (ulong)key[1],
            IsFolded = key[2] != 0,
            Lines = lines,
        };
        _profile.Locations.Add(location);
        _locations[id] = location;
        return location;
    }

    private Function Function(int id)
    {
        if (!_functions.TryGetValue(id, out var function))
        {
            var key = _table.Functions[id].Values;
            function = new Function
            {
                Id = (ulong)_profile.Functions.Count + 1,
                Name = String(key[0]),
                SystemName = String(key[1]),
                Filename = String(key[2]),
                StartLine = key[3],
            };
            _profile.Functions.Add(function);
            _functions[id] = function;
        }

        return function;
    }

    private Mapping Mapping(int id)
    {
        if (!_mappings.TryGetValue(id, out var mapping))
        {
            var key = _table.Mappings[id].Values;
            mapping = new Mapping
            {
                Id = (ulong)_profile.Mappings.Count + 1,
                Start = (ulong)key[0],
                Limit = (ulong)key[1],
                Offset = (ulong)key[2],
                File = String(key[3]),
                BuildId = String(key[4]),
                HasFunctions = (key[5] & 1) != 0,
                HasFilenames = (key[5] & 2) != 0,
                HasLineNumbers = (key[5] & 4) != 0,
                HasInlineFrames = (key[5] & 8) != 0,
            };
            _profile.Mappings.Add(mapping);
            _mappings[id] = mapping;
        }

        return mapping;
    }

    private void SetLabels(Sample sample, ReadOnlySpan<long> key)
    {
        var at = 0;
        var strings = (int)key[at++];
        for (var i = 0; i < strings; i++)
        {
            var name = String(key[at++]);
            var values = new string[key[at++]];
            for (var j = 0; j < values.Length; j++)
            {
                values[j] = String(key[at++]);
            }

            (sample.Labels ??= new Dictionary<string, string[]>(StringComparer.Ordinal))[name] = values;
        }

        var numbers = (int)key[at++];
        for (var i = 0; i < numbers; i++)
        {
            var name = String(key[at++]);
            var values = key.Slice(at + 1, (int)key[at]).ToArray();
            at += 1 + values.Length;
            (sample.NumLabels ??= new Dictionary<string, long[]>(StringComparer.Ordinal))[name] = values;
            var unitCount = key[at++];
            if (unitCount >= 0)
            {
                var units = new string[unitCount];
                for (var j = 0; j < units.Length; j++)
                {
                    units[j] = String(key[at++]);
                }

                (sample.NumUnits ??= new Dictionary<string, string[]>(StringComparer.Ordinal))[name] = units;
            }
        }
    }

    private string String(long id) => _table.Strings[(int)id];
}
