using System.Runtime.InteropServices;
using Profefe.Core.Ingest;
using Profefe.Pprof;

namespace Profefe.Server.Pyroscope.Ingest;

/// <summary>
/// Builds a pprof profile from stacks of function names (root first) and values, for the uploads that carry
/// no pprof: one function and one location per name, one sample per distinct stack.
/// </summary>
internal sealed class StackProfileBuilder
{
    private readonly Dictionary<string, Location> _locations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Sample> _samples = new(StringComparer.Ordinal);
    private readonly Profile _profile = new();
    private readonly List<Location> _stack = [];

    public int SampleCount => _samples.Count;

    /// <summary>Adds <paramref name="value"/> to the stack <paramref name="frames"/> (root first); empty names are skipped.</summary>
    public void Add(IReadOnlyList<string> frames, long value)
    {
        ArgumentNullException.ThrowIfNull(frames);
        _stack.Clear();
        for (var i = frames.Count - 1; i >= 0; i--)
        {
            if (frames[i].Length > 0)
            {
                _stack.Add(LocationOf(frames[i]));
            }
        }

        if (_stack.Count == 0 || value == 0)
        {
            return;
        }

        var key = string.Join('\n', frames);
        ref var sample = ref CollectionsMarshal.GetValueRefOrAddDefault(_samples, key, out var exists);
        if (!exists)
        {
            sample = new Sample { Locations = [.. _stack], Values = [0] };
            _profile.Samples.Add(sample);
        }

        sample!.Values[0] = SumOrRefuse(sample.Values[0], value, 1);
    }

    /// <param name="valueScale">Each value is multiplied by this (the nanoseconds one sample stands for).</param>
    public Profile Build(SampleType sampleType, SampleType? periodType, long period, DateTime from, DateTime until, long valueScale)
    {
        _profile.SampleTypes.Add(sampleType);
        _profile.PeriodType = periodType;
        _profile.Period = period;
        _profile.TimeNanos = (from - DateTime.UnixEpoch).Ticks * 100;
        _profile.DurationNanos = (until - from).Ticks * 100;
        if (valueScale != 1)
        {
            foreach (var sample in _profile.Samples)
            {
                sample.Values[0] = SumOrRefuse(0, sample.Values[0], valueScale);
            }
        }

        return _profile;
    }

    /// <summary><paramref name="total"/> + <paramref name="value"/> × <paramref name="scale"/>, or a 422 when it does not fit in 64 bits.</summary>
    private static long SumOrRefuse(long total, long value, long scale)
    {
        try
        {
            return checked(total + (value * scale));
        }
        catch (OverflowException)
        {
            throw new ProfileRequestException(422, $"a stack's value {value} (× {scale}, added to {total}) overflows a 64-bit sample value");
        }
    }

    private Location LocationOf(string name)
    {
        if (!_locations.TryGetValue(name, out var location))
        {
            var function = new Function { Id = (ulong)_profile.Functions.Count + 1, Name = name, SystemName = name };
            _profile.Functions.Add(function);
            location = new Location { Id = (ulong)_profile.Locations.Count + 1, Lines = [new Line(function, 0)] };
            _profile.Locations.Add(location);
            _locations.Add(name, location);
        }

        return location;
    }
}
