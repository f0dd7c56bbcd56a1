using System.Globalization;
using System.Text;

namespace Profefe.Pprof.Tests;

/// <summary>
/// Renders everything a profile holds as text, one item per line, so two profiles compare with one
/// Assert.Equal and a failure shows the first differing line. Dictionary order does not matter (keys sorted).
/// </summary>
public static class ProfileText
{
    public static string Render(Profile profile)
    {
        var text = new StringBuilder();
        void Line(string value) => text.Append(value).Append('\n');

        Line("sample_types " + string.Join(",", profile.SampleTypes));
        Line("default_sample_type " + profile.DefaultSampleType);
        var period = profile.PeriodType ?? new SampleType("", "");
        Line(Invariant($"period_type {period} period {profile.Period}"));
        Line(Invariant($"time {profile.TimeNanos} duration {profile.DurationNanos}"));
        Line("drop_frames " + profile.DropFrames);
        Line("keep_frames " + profile.KeepFrames);
        Line("doc_url " + profile.DocUrl);
        foreach (var comment in profile.Comments)
        {
            Line("comment " + comment);
        }

        foreach (var m in profile.Mappings)
        {
            Line(Invariant($"mapping {m.Id} {m.Start:x}-{m.Limit:x} @{m.Offset:x} {m.File} {m.BuildId} {m.HasFunctions} {m.HasFilenames} {m.HasLineNumbers} {m.HasInlineFrames}"));
        }

        foreach (var f in profile.Functions)
        {
            Line(Invariant($"function {f.Id} {f.Name} {f.SystemName} {f.Filename}:{f.StartLine}"));
        }

        foreach (var l in profile.Locations)
        {
            Line(Invariant($"location {l.Id} mapping {l.Mapping?.Id} {l.Address:x} folded {l.IsFolded}"));
            foreach (var line in l.Lines)
            {
                Line(Invariant($"  line {line.Function?.Id} {line.Function?.Name} {line.LineNumber}:{line.Column}"));
            }
        }

        for (var i = 0; i < profile.Samples.Count; i++)
        {
            var s = profile.Samples[i];
            Line(Invariant($"sample {i} values {string.Join(",", s.Values)}"));
            foreach (var l in s.Locations)
            {
                var frames = string.Join(" | ", l.Lines.Select(x => Invariant($"{x.Function?.Name} {x.Function?.Filename}:{x.LineNumber}")));
                Line(Invariant($"  at {l.Address:x} {l.Mapping?.File} {frames}"));
            }

            foreach (var (key, values) in (s.Labels ?? []).OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                Line($"  label {key}={string.Join(",", values)}");
            }

            foreach (var (key, values) in (s.NumLabels ?? []).OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                var units = s.NumUnits?.GetValueOrDefault(key) ?? [];
                Line(Invariant($"  num {key}={string.Join(",", values)} units {string.Join(",", units)}"));
            }
        }

        return text.ToString();
    }

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
