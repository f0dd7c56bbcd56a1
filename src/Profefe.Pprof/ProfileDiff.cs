namespace Profefe.Pprof;

/// <summary>
/// The difference of a profile against a base, as <c>go tool pprof -diff_base</c> builds it: the base's
/// samples are negated, tagged with the label <see cref="BaseLabel"/>=<c>true</c> and merged with the profile.
/// </summary>
public static class ProfileDiff
{
    /// <summary>The label go tool pprof puts on the base's samples; its reports take the total from them.</summary>
    public const string BaseLabel = "pprof::base";

    /// <summary>Neither input is changed.</summary>
    /// <exception cref="ProfileFormatException">the profiles are not compatible; the message names the difference.</exception>
    public static Profile Compute(Profile baseProfile, Profile profile)
    {
        ArgumentNullException.ThrowIfNull(baseProfile);
        ArgumentNullException.ThrowIfNull(profile);

        var merger = new ProfileMerger();
        merger.Add(profile);
        merger.Add(NegatedBase(baseProfile));
        return merger.ToProfile();
    }

    /// <summary>True when the sample came from the base of a diff.</summary>
    public static bool IsBaseSample(Sample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        return sample.Labels is { } labels
            && labels.TryGetValue(BaseLabel, out var values)
            && values.Length == 1
            && values[0] == "true";
    }

    // A shallow copy: the same locations, functions and mappings, new samples.
    private static Profile NegatedBase(Profile source)
    {
        var copy = new Profile
        {
            DefaultSampleType = source.DefaultSampleType,
            DropFrames = source.DropFrames,
            KeepFrames = source.KeepFrames,
            TimeNanos = source.TimeNanos,
            DurationNanos = source.DurationNanos,
            PeriodType = source.PeriodType,
            Period = source.Period,
            DocUrl = source.DocUrl,
        };
        copy.SampleTypes.AddRange(source.SampleTypes);
        copy.Comments.AddRange(source.Comments);
        copy.Mappings.AddRange(source.Mappings);
        copy.Locations.AddRange(source.Locations);
        copy.Functions.AddRange(source.Functions);
        copy.Samples.Capacity = source.Samples.Count;
        foreach (var sample in source.Samples)
        {
            var labels = sample.Labels is null
                ? new Dictionary<string, string[]>(1, StringComparer.Ordinal)
                : new Dictionary<string, string[]>(sample.Labels, StringComparer.Ordinal);
            labels[BaseLabel] = ["true"];
            copy.Samples.Add(new Sample
            {
                Locations = sample.Locations,
                Values = (long[])sample.Values.Clone(),
                Labels = labels,
                NumLabels = sample.NumLabels,
                NumUnits = sample.NumUnits,
            });
        }

        copy.Scale(-1);
        return copy;
    }
}
