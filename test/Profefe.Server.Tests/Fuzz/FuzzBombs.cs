using Profefe.Pprof;
using Profefe.Testing;

namespace Profefe.Server.Tests.Fuzz;

/// <summary>
/// Bodies built once per run that cost the collector the most for their size: gzip that inflates to half the
/// decompression limit and just past it, gzip of millions of empty samples, a valid profile with more samples than
/// allowed and one just under, and a stack deeper than allowed.
/// </summary>
internal sealed class FuzzBombs
{
    public FuzzBombs(long maxDecompressedBytes, int maxSamplesPerProfile, int maxStackDepth)
    {
        GzipWithinLimit = RequestMutator.Gzip(new byte[maxDecompressedBytes / 2]);
        GzipPastLimit = RequestMutator.Gzip(new byte[maxDecompressedBytes + 1]);

        // Field 2 (sample), length 0, over and over: a profile of millions of empty samples.
        var emptySamples = new byte[8 << 20];
        for (var i = 0; i < emptySamples.Length; i += 2)
        {
            emptySamples[i] = 0x12;
        }

        GzipOfValidJunk = RequestMutator.Gzip(emptySamples);
        SampleBombPastLimit = WithSamples(maxSamplesPerProfile + 1);
        SampleBombWithinLimit = WithSamples(maxSamplesPerProfile / 2);

        var deep = ProfileDecoder.Decode(TestData.Read("go/cpu_hash_01.pb.gz"));
        var first = deep.Samples[0];
        var stack = new Location[maxStackDepth + 10];
        for (var i = 0; i < stack.Length; i++)
        {
            stack[i] = deep.Locations[i % deep.Locations.Count];
        }

        deep.Samples.Clear();
        deep.Samples.Add(new Sample { Locations = stack, Values = first.Values });
        DeepStack = ProfileEncoder.EncodeToArray(deep);
    }

    public byte[] GzipWithinLimit { get; }

    public byte[] GzipPastLimit { get; }

    public byte[] GzipOfValidJunk { get; }

    public byte[] SampleBombPastLimit { get; }

    public byte[] SampleBombWithinLimit { get; }

    public byte[] DeepStack { get; }

    private static byte[] WithSamples(int count)
    {
        var profile = ProfileDecoder.Decode(TestData.Read("go/cpu_hash_01.pb.gz"));
        var samples = profile.Samples.ToArray();
        profile.Samples.Clear();
        for (var i = 0; i < count; i++)
        {
            var sample = samples[i % samples.Length];
            profile.Samples.Add(new Sample { Locations = sample.Locations, Values = sample.Values });
        }

        return ProfileEncoder.EncodeToArray(profile);
    }
}
