using Profefe.Pprof;

namespace Profefe.Core.Views;

/// <summary>
/// <c>go tool pprof -top</c> by function, the one top table of the UI and the CLI's <c>profefe top</c>: flat is the
/// value of samples whose innermost frame is the function, cum the value of samples with the function anywhere on
/// the stack (once per sample, even when it recurses). For a diff (<c>-diff_base</c>), <see cref="TopRow.BaseFlat"/>
/// and <see cref="TopRow.BaseCum"/> hold the base side and <see cref="TopRow.Flat"/>/<see cref="TopRow.Cum"/> the
/// new side; go's flat and cum of the diff are the changes.
/// </summary>
/// <param name="Rows">
/// Sorted as <c>go tool pprof -top</c> sorts: by absolute flat descending (of the change, for a diff), then by name,
/// then by absolute cum descending.
/// </param>
/// <param name="Total">
/// What go tool pprof calls the total, the sum of absolute sample values (the new side's for a diff): the 100 % of
/// flat % and cum %.
/// </param>
/// <param name="BaseTotal">The base side's total for a diff, the 100 % go tool pprof uses for a diff; else null.</param>
public sealed record TopTable(IReadOnlyList<TopRow> Rows, long Total, long? BaseTotal);

public sealed record TopRow(string Name, string File, long Flat, long Cum, long BaseFlat, long BaseCum)
{
    /// <summary>New flat minus base flat: go tool pprof's flat of a diff, and the flat of a plain table.</summary>
    public long FlatChange => Flat - BaseFlat;

    /// <summary>New cum minus base cum: go tool pprof's cum of a diff, and the cum of a plain table.</summary>
    public long CumChange => Cum - BaseCum;
}

public static class TopTableBuilder
{
    /// <param name="naming">How frames without a function name are named; the UI names them by address.</param>
    public static TopTable Build(Profile profile, int sampleIndex, FrameNaming naming = FrameNaming.ByAddress)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var accumulator = new Accumulator(new FrameTable(naming));
        var total = accumulator.Add(profile, sampleIndex, isBase: false);
        return accumulator.ToTable(total, null);
    }

    /// <summary>Base against new in one table, as <c>go tool pprof -diff_base=base new</c> counts them.</summary>
    public static TopTable BuildDiff(Profile baseProfile, int baseSampleIndex, Profile newProfile, int newSampleIndex, FrameNaming naming = FrameNaming.ByAddress)
    {
        ArgumentNullException.ThrowIfNull(baseProfile);
        ArgumentNullException.ThrowIfNull(newProfile);
        var accumulator = new Accumulator(new FrameTable(naming));
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
                total += Math.Abs(value);

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
                // Every interned frame lies on a counted sample's stack; one whose values cancel out stays, as in go.
                if (frame < _seenIn.Length && _seenIn[frame] != 0)
                {
                    rows.Add(new TopRow(names[frame], frames.Files[frame], _flat[frame], _cum[frame], _baseFlat[frame], _baseCum[frame]));
                }
            }

            rows.Sort(static (a, b) =>
            {
                var byFlat = Math.Abs(b.FlatChange).CompareTo(Math.Abs(a.FlatChange));
                if (byFlat != 0)
                {
                    return byFlat;
                }

                var byName = string.CompareOrdinal(a.Name, b.Name);
                return byName != 0 ? byName : Math.Abs(b.CumChange).CompareTo(Math.Abs(a.CumChange));
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
