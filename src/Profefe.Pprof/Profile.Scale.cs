using System.Runtime.InteropServices;

namespace Profefe.Pprof;

public sealed partial class Profile
{
    /// <summary>
    /// Multiplies every sample value by <paramref name="ratio"/>, rounding half away from zero, and drops
    /// samples that become all zero — Go's Profile.Scale.
    /// </summary>
    public void Scale(double ratio)
    {
        if (ratio == 1)
        {
            return;
        }

        var ratios = new double[SampleTypes.Count];
        Array.Fill(ratios, ratio);
        ScaleN(ratios);
    }

    /// <summary>
    /// Multiplies each sample value by the ratio of its sample type — Go's Profile.ScaleN. As in Go,
    /// a sample is kept only when one of the values it scaled is non-zero.
    /// </summary>
    /// <exception cref="ArgumentException">there is not one ratio per sample type.</exception>
    public void ScaleN(IReadOnlyList<double> ratios)
    {
        ArgumentNullException.ThrowIfNull(ratios);
        if (ratios.Count != SampleTypes.Count)
        {
            throw new ArgumentException($"mismatched scale ratios, got {ratios.Count}, want {SampleTypes.Count}", nameof(ratios));
        }

        var allOnes = true;
        for (var i = 0; i < ratios.Count; i++)
        {
            allOnes &= ratios[i] == 1;
        }

        if (allOnes)
        {
            return;
        }

        var samples = CollectionsMarshal.AsSpan(Samples);
        var kept = 0;
        foreach (var sample in samples)
        {
            var keep = false;
            var values = sample.Values;
            for (var i = 0; i < values.Length && i < ratios.Count; i++)
            {
                if (ratios[i] != 1)
                {
                    var scaled = (long)Math.Round(values[i] * ratios[i], MidpointRounding.AwayFromZero);
                    values[i] = scaled;
                    keep |= scaled != 0;
                }
            }

            if (keep)
            {
                samples[kept++] = sample;
            }
        }

        Samples.RemoveRange(kept, Samples.Count - kept);
    }
}
