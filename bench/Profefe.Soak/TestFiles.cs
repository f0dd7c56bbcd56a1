using Profefe.Pprof;

namespace Profefe.Soak;

/// <summary>The corpus profiles the soak sends (copied next to it at build), and the bombs made from them.</summary>
internal static class TestFiles
{
    public static byte[] Read(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "testdata", name));

    /// <summary>What the well-behaved clients push, round robin.</summary>
    public static List<byte[]> Good() => [Read("cpu_hash_01.pb.gz"), Read("cpu_hash_02.pb.gz"), Read("cpu_json_01.pb.gz"), Read("cpu_math_01.pb.gz")];

    /// <summary>A CPU profile whose first sample type name has one letter changed, as the endpoint fuzzer once stored it.</summary>
    public static byte[] MutatedSampleType()
    {
        var profile = ProfileDecoder.Decode(Read("cpu_hash_01.pb.gz"));
        profile.SampleTypes[0] = profile.SampleTypes[0] with { Type = "sampleS" };
        return ProfileEncoder.EncodeToArray(profile);
    }

    /// <summary>A valid CPU profile with <paramref name="samples"/> samples, each <paramref name="depth"/> frames deep (0: as recorded).</summary>
    public static byte[] Bomb(int samples, int depth)
    {
        var profile = ProfileDecoder.Decode(Read("cpu_hash_01.pb.gz"));
        var originals = profile.Samples.ToArray();
        profile.Samples.Clear();
        for (var i = 0; i < samples; i++)
        {
            var original = originals[i % originals.Length];
            var stack = original.Locations;
            if (depth > 0)
            {
                stack = new Location[depth];
                for (var d = 0; d < depth; d++)
                {
                    stack[d] = profile.Locations[(d + i) % profile.Locations.Count];
                }
            }

            // Distinct values keep the samples from folding into one.
            profile.Samples.Add(new Sample { Locations = stack, Values = [1 + (i % 7), (1 + (i % 7)) * 10_000_000L] });
        }

        return ProfileEncoder.EncodeToArray(profile);
    }
}
