using Profefe.Core.Profiles;
using Profefe.Pprof;

namespace Profefe.Core.Views;

/// <summary>When a query's profiles were taken and how heavy each was, for the Explore page.</summary>
/// <param name="SampleType">The sample type the totals are in (e.g. "cpu"), or empty when no profile could be read.</param>
public sealed record Timeline(IReadOnlyList<TimelinePoint> Points, string SampleType, string Unit);

/// <param name="Total">The profile's total of the timeline's sample type; null when it has no such type or is not pprof (trace).</param>
public sealed record TimelinePoint(ProfileMeta Meta, long? Total);

/// <summary>
/// Builds a <see cref="Timeline"/> one profile at a time, so the caller can decode, add and drop each profile.
/// The first profile added fixes the sample type unless one was asked for.
/// </summary>
public sealed class TimelineBuilder(string? sampleType = null)
{
    private readonly List<TimelinePoint> _points = [];
    private string _sampleType = sampleType ?? "";
    private string _unit = "";

    public void Add(ProfileMeta meta, Profile? profile)
    {
        ArgumentNullException.ThrowIfNull(meta);
        long? total = null;
        if (profile is { SampleTypes.Count: > 0 })
        {
            var index = FindIndex(profile.SampleTypes, profile.DefaultSampleType);
            if (index >= 0)
            {
                total = SampleTypeIndex.Total(profile, index);
            }
        }

        _points.Add(new TimelinePoint(meta, total));
    }

    /// <summary>Adds a profile whose totals were read without decoding it (<see cref="ProfileTotals.TryRead"/>); null when unknown.</summary>
    public void AddTotals(ProfileMeta meta, ProfileTotals? totals)
    {
        ArgumentNullException.ThrowIfNull(meta);
        long? total = null;
        if (totals is { SampleTypes.Count: > 0 })
        {
            var index = FindIndex(totals.SampleTypes, totals.DefaultSampleType);
            if (index >= 0)
            {
                total = totals.Totals[index];
            }
        }

        _points.Add(new TimelinePoint(meta, total));
    }

    public Timeline Build()
    {
        _points.Sort(static (a, b) => a.Meta.CreatedAt.CompareTo(b.Meta.CreatedAt));
        return new Timeline([.. _points], _sampleType, _unit);
    }

    private int FindIndex(IReadOnlyList<SampleType> types, string defaultType)
    {
        if (_sampleType.Length == 0)
        {
            var index = SampleTypeIndex.Resolve(types, defaultType);
            _sampleType = types[index].Type;
            _unit = types[index].Unit;
            return index;
        }

        for (var i = 0; i < types.Count; i++)
        {
            if (string.Equals(types[i].Type, _sampleType, StringComparison.Ordinal))
            {
                if (_unit.Length == 0)
                {
                    _unit = types[i].Unit;
                }

                return i;
            }
        }

        return -1;
    }
}
