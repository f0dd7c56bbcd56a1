using Profefe.Pprof;

namespace Profefe.Core.Views;

/// <summary>
/// <c>go tool pprof -top</c> by function: flat is the value of samples whose innermost frame is the function, cum
/// the value of samples with the function anywhere on the stack (once per sample, even when it recurses).
/// For a diff, <see cref="TopRow.BaseFlat"/> and <see cref="TopRow.BaseCum"/> hold the base side and
/// <see cref="TopRow.Flat"/>/<see cref="TopRow.Cum"/> the new side.
/// </summary>
/// <param name="Rows">Sorted by flat descending, then cum descending, then name.</param>
/// <param name="Total">The sample type's total over all samples (the new side's for a diff): the 100 % of flat % and cum %.</param>
public sealed record TopTable(IReadOnlyList<TopRow> Rows, long Total, long? BaseTotal);

public sealed record TopRow(string Name, string File, long Flat, long Cum, long BaseFlat, long BaseCum);

public static class TopTableBuilder
{
    public static TopTable Build(Profile profile, int sampleIndex)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var accumulator = new Accumulator(new FrameTable());
        var total = accumulator.Add(profile, sampleIndex, isBase: false);
        return accumulator.ToTable(total, null);
    }

    public static TopTable BuildDiff(Profile baseProfile, int baseSampleIndex, Profile newProfile, int newSampleIndex)
    {
        ArgumentNullException.ThrowIfNull(baseProfile);
        ArgumentNullException.ThrowIfNull(newProfile);
        var accumulator = new Accumulator(new FrameTable());
        var baseTotal = accumulator.Add(baseProfile, baseSampleIndex, isBase: true);
        var total = accumulator.Add(newProfile, newSampleIndex, isBase: false);
        return accumulator.ToTable(total, baseTotal);
    }

    private sealed class Accumulator(FrameTable frames)
    {
        private long[] _flat = new long[256];
        private long[] _cum = new long[256];
        private long[] _baseFlat = new long[256];
        private long[] _baseCum = new long[256];
        private int[] _seenIn = new int[256];
        private int _sampleNumber;

        public long Add(Profile profile, int sampleIndex, bool isBase)
        {
            long total = 0;
            foreach (var sample in profile.Samples)
            {
                if (sampleIndex >= sample.Values.Length || sample.Values[sampleIndex] == 0 || sample.Locations.Length == 0)
                {
                    continue;
                }

                var value = sample.Values[sampleIndex];
                total += value;

                // A stamp per frame instead of a set per sample: a frame counts once toward cum however often it recurs.
                var stamp = ++_sampleNumber;
                foreach (var location in sample.Locations)
                {
                    var locationFrames = frames.FramesOf(location);
                    EnsureCapacity(frames.Names.Count);
                    var cum = isBase ? _baseCum : _cum;
                    foreach (var frame in locationFrames)
                    {
                        if (_seenIn[frame] != stamp)
                        {
                            _seenIn[frame] = stamp;
                            cum[frame] += value;
                        }
                    }
                }

                // Locations list their lines inlined callee first; FramesOf returns them caller first.
                var leaf = frames.FramesOf(sample.Locations[0])[^1];
                (isBase ? _baseFlat : _flat)[leaf] += value;
            }

            return total;
        }

        public TopTable ToTable(long total, long? baseTotal)
        {
            var names = frames.Names;
            var rows = new List<TopRow>(names.Count);
            for (var frame = 0; frame < names.Count; frame++)
            {
                if (frame < _cum.Length && (_cum[frame] != 0 || _baseCum[frame] != 0))
                {
                    rows.Add(new TopRow(names[frame], frames.Files[frame], _flat[frame], _cum[frame], _baseFlat[frame], _baseCum[frame]));
                }
            }

            rows.Sort(static (a, b) =>
            {
                var byFlat = b.Flat.CompareTo(a.Flat);
                if (byFlat != 0)
                {
                    return byFlat;
                }

                var byCum = b.Cum.CompareTo(a.Cum);
                return byCum != 0 ? byCum : string.CompareOrdinal(a.Name, b.Name);
            });
            return new TopTable(rows, total, baseTotal);
        }

        private void EnsureCapacity(int frameCount)
        {
            if (frameCount <= _flat.Length)
            {
                return;
            }

            var size = Math.Max(frameCount, _flat.Length * 2);
            Array.Resize(ref _flat, size);
            Array.Resize(ref _cum, size);
            Array.Resize(ref _baseFlat, size);
            Array.Resize(ref _baseCum, size);
            Array.Resize(ref _seenIn, size);
        }
    }
}
