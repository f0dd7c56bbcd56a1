using Profefe.Pprof;

namespace Profefe.Core.Views;

/// <summary>Chooses which of a profile's sample types a view shows.</summary>
public static class SampleTypeIndex
{
    /// <summary>
    /// The index of <paramref name="type"/> (matched on <see cref="SampleType.Type"/>, e.g. "cpu" or "inuse_space");
    /// null or empty picks the profile's default sample type, else the last one, as <c>go tool pprof</c> does.
    /// </summary>
    /// <exception cref="ArgumentException">the profile has no such sample type; the message lists the ones it has.</exception>
    public static int Resolve(Profile profile, string? type)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (profile.SampleTypes.Count == 0)
        {
            throw new ArgumentException("the profile has no sample types", nameof(profile));
        }

        return Resolve(profile.SampleTypes, profile.DefaultSampleType, type);
    }

    /// <summary>Picks the default sample type, else the last, among <paramref name="types"/>.</summary>
    internal static int Resolve(IReadOnlyList<SampleType> types, string defaultType) => Resolve(types, defaultType, null);

    private static int Resolve(IReadOnlyList<SampleType> types, string defaultType, string? type)
    {
        var wanted = string.IsNullOrEmpty(type) ? defaultType : type;
        if (!string.IsNullOrEmpty(wanted))
        {
            for (var i = 0; i < types.Count; i++)
            {
                if (string.Equals(types[i].Type, wanted, StringComparison.Ordinal))
                {
                    return i;
                }
            }

            if (!string.IsNullOrEmpty(type))
            {
                var known = string.Join(", ", types.Select(t => t.Type));
                throw new ArgumentException($"unknown sample type \"{type}\"; this profile has: {known}", nameof(type));
            }
        }

        return types.Count - 1;
    }

    /// <summary>The sum of one sample type's values over every sample (the profile's total, e.g. CPU nanoseconds).</summary>
    public static long Total(Profile profile, int sampleIndex)
    {
        ArgumentNullException.ThrowIfNull(profile);
        long total = 0;
        foreach (var sample in profile.Samples)
        {
            if (sampleIndex < sample.Values.Length)
            {
                total += sample.Values[sampleIndex];
            }
        }

        return total;
    }
}
