using Profefe.Pprof;

namespace Profefe.Agent.Collection;

/// <summary>One resolved stack frame: what the profile shows for a code address.</summary>
/// <param name="Key">Identifies the code address within the round, so each address becomes one location.</param>
/// <param name="FunctionName">The method's name without its signature, or a bracketed module name for unnamed code.</param>
/// <param name="Module">The module (assembly or native library) the address belongs to; empty when unknown.</param>
/// <param name="Address">The instruction address.</param>
internal readonly record struct ResolvedFrame(int Key, string FunctionName, string Module, ulong Address);

/// <summary>Assembles one pprof profile from resolved stacks, interning functions, locations and mappings.</summary>
internal sealed class ProfileBuilder
{
    private readonly Profile _profile = new();
    private readonly Dictionary<int, Location> _locations = [];
    private readonly Dictionary<string, Location> _leafLocations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Function> _functions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Mapping> _mappings = new(StringComparer.Ordinal);

    public ProfileBuilder(SampleType[] sampleTypes, SampleType periodType, long period, DateTimeOffset start, TimeSpan duration)
    {
        _profile.SampleTypes.AddRange(sampleTypes);
        _profile.PeriodType = periodType;
        _profile.Period = period;
        _profile.TimeNanos = (start - DateTimeOffset.UnixEpoch).Ticks * 100;
        _profile.DurationNanos = duration.Ticks * 100;
    }

    public int SampleCount => _profile.Samples.Count;

    /// <summary>Adds a sample; <paramref name="leafName"/>, when given, becomes an extra frame below the stack's leaf.</summary>
    public void Add(ResolvedFrame[] frames, string? leafName, long[] values, Dictionary<string, string[]>? labels = null)
    {
        var extra = leafName is null ? 0 : 1;
        var locations = new Location[frames.Length + extra];
        if (leafName is not null)
        {
            locations[0] = LeafLocation(leafName);
        }

        for (var i = 0; i < frames.Length; i++)
        {
            locations[i + extra] = LocationOf(frames[i]);
        }

        _profile.Samples.Add(new Sample { Locations = locations, Values = values, Labels = labels });
    }

    public Profile ToProfile() => _profile;

    private Location LocationOf(in ResolvedFrame frame)
    {
        if (_locations.TryGetValue(frame.Key, out var location))
        {
            return location;
        }

        Mapping? mapping = null;
        if (frame.Module.Length > 0)
        {
            if (!_mappings.TryGetValue(frame.Module, out mapping))
            {
                mapping = new Mapping
                {
                    Id = (ulong)_mappings.Count + 1,
                    Start = frame.Address,
                    Limit = frame.Address + 1,
                    File = frame.Module,
                    HasFunctions = true,
                };
                _mappings.Add(frame.Module, mapping);
                _profile.Mappings.Add(mapping);
            }

            // Managed code of one module is spread over the JIT's heap: the range only has to cover the addresses.
            mapping.Start = Math.Min(mapping.Start, frame.Address);
            mapping.Limit = Math.Max(mapping.Limit, frame.Address + 1);
        }

        location = new Location
        {
            Id = (ulong)_profile.Locations.Count + 1,
            Mapping = mapping,
            Address = frame.Address,
            Lines = [new Line(FunctionOf(frame.FunctionName), 0)],
        };
        _locations.Add(frame.Key, location);
        _profile.Locations.Add(location);
        return location;
    }

    private Location LeafLocation(string name)
    {
        if (!_leafLocations.TryGetValue(name, out var location))
        {
            location = new Location { Id = (ulong)_profile.Locations.Count + 1, Lines = [new Line(FunctionOf(name), 0)] };
            _leafLocations.Add(name, location);
            _profile.Locations.Add(location);
        }

        return location;
    }

    private Function FunctionOf(string name)
    {
        if (!_functions.TryGetValue(name, out var function))
        {
            // SystemName stays empty: pprof strips "<…>" and "(…)" from names equal to it, which mangles
            // compiler-generated frames such as "<HandleAsync>d__0.MoveNext".
            function = new Function { Id = (ulong)_functions.Count + 1, Name = name };
            _functions.Add(name, function);
            _profile.Functions.Add(function);
        }

        return function;
    }
}
