namespace Profefe.Pprof.Tests;

/// <summary>
/// Builds small profiles by hand: stacks are written "leaf;caller;root", each frame one location with one
/// line. Two builders make distinct objects with equal content, as two decoded profiles would.
/// </summary>
internal sealed class TestProfileBuilder
{
    private readonly Profile _profile;
    private readonly Mapping _mapping;
    private readonly Dictionary<string, Function> _functions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Location> _locations = new(StringComparer.Ordinal);

    public TestProfileBuilder(ulong mappingStart = 0x400000, params SampleType[] sampleTypes)
    {
        _profile = new Profile { PeriodType = new SampleType("cpu", "nanoseconds"), Period = 10_000_000 };
        _profile.SampleTypes.AddRange(sampleTypes.Length > 0
            ? sampleTypes
            : [new SampleType("samples", "count"), new SampleType("cpu", "nanoseconds")]);
        _mapping = new Mapping { Id = 1, Start = mappingStart, Limit = mappingStart + 0x100000, File = "/bin/app", HasFunctions = true };
        _profile.Mappings.Add(_mapping);
    }

    public Profile Profile => _profile;

    public TestProfileBuilder Sample(string stack, params long[] values) => Sample(stack, null, values);

    public TestProfileBuilder Sample(string stack, Dictionary<string, string[]>? labels, params long[] values)
    {
        var frames = stack.Split(';');
        var locations = new Location[frames.Length];
        for (var i = 0; i < frames.Length; i++)
        {
            locations[i] = LocationOf(frames[i]);
        }

        _profile.Samples.Add(new Sample { Locations = locations, Values = values, Labels = labels });
        return this;
    }

    public Profile Build() => _profile;

    public Location LocationOf(string name)
    {
        if (_locations.TryGetValue(name, out var location))
        {
            return location;
        }

        location = new Location
        {
            Id = (ulong)_profile.Locations.Count + 1,
            Mapping = _mapping,
            Address = _mapping.Start + AddressOffset(name),
            Lines = [new Line(FunctionOf(name), 10)],
        };
        _profile.Locations.Add(location);
        _locations.Add(name, location);
        return location;
    }

    public Function FunctionOf(string name)
    {
        if (_functions.TryGetValue(name, out var function))
        {
            return function;
        }

        function = new Function { Id = (ulong)_profile.Functions.Count + 1, Name = name, SystemName = name, Filename = "app.go", StartLine = 1 };
        _profile.Functions.Add(function);
        _functions.Add(name, function);
        return function;
    }

    // The same name gets the same offset in every builder, so equal frames merge into one location.
    private static ulong AddressOffset(string name)
    {
        var hash = 2166136261u;
        foreach (var c in name)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (hash % 0xFFFF) * 0x10;
    }
}
