using Profefe.Pprof;

namespace Profefe.FleetWeek;

/// <summary>
/// The corpus' Go CPU profiles as the fleet pushes them: without time_nanos (the collector takes created_at from
/// a profile's own time when it has one, which would put every push at the moment it was recorded), each
/// re-encoded once, with its sum per sample type for checking the merges.
/// </summary>
internal sealed class FleetCorpus
{
    private FleetCorpus(IReadOnlyList<string> sampleTypes, IReadOnlyList<CorpusProfile> profiles)
    {
        SampleTypes = sampleTypes;
        Profiles = profiles;
    }

    /// <summary>The sample types every profile has, in order ("samples/count", "cpu/nanoseconds").</summary>
    public IReadOnlyList<string> SampleTypes { get; }

    public IReadOnlyList<CorpusProfile> Profiles { get; }

    /// <summary>Mean size of a pushed body, in bytes.</summary>
    public double MeanBodyBytes
    {
        get
        {
            long bytes = 0;
            foreach (var profile in Profiles)
            {
                bytes += profile.Body.Length;
            }

            return (double)bytes / Profiles.Count;
        }
    }

    /// <exception cref="InvalidOperationException">no profiles, or profiles with different sample types.</exception>
    public static FleetCorpus Load(string directory)
    {
        var files = Directory.GetFiles(directory, "cpu_*.pb.gz");
        Array.Sort(files, StringComparer.Ordinal);
        if (files.Length == 0)
        {
            throw new InvalidOperationException($"no cpu_*.pb.gz profiles in {directory}");
        }

        IReadOnlyList<string>? sampleTypes = null;
        var profiles = new List<CorpusProfile>(files.Length);
        foreach (var file in files)
        {
            var profile = ProfileDecoder.Decode(File.ReadAllBytes(file));
            profile.TimeNanos = 0;
            var types = profile.SampleTypes.ConvertAll(static t => t.ToString());
            sampleTypes ??= types;
            if (!sampleTypes.SequenceEqual(types))
            {
                throw new InvalidOperationException(
                    $"{Path.GetFileName(file)} has sample types {string.Join(",", types)}, the others {string.Join(",", sampleTypes)}");
            }

            profiles.Add(new CorpusProfile(Path.GetFileName(file), ProfileEncoder.EncodeToArray(profile), Totals(profile)));
        }

        return new FleetCorpus(sampleTypes!, profiles);
    }

    /// <summary>The sum of every sample's values, per sample type.</summary>
    public static long[] Totals(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var totals = new long[profile.SampleTypes.Count];
        foreach (var sample in profile.Samples)
        {
            for (var t = 0; t < totals.Length && t < sample.Values.Length; t++)
            {
                totals[t] += sample.Values[t];
            }
        }

        return totals;
    }
}

/// <summary>One corpus file as pushed: its gzip pprof body and its totals per sample type.</summary>
internal sealed record CorpusProfile(string Name, byte[] Body, long[] Totals);
