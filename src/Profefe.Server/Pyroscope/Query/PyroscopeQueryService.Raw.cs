using System.Collections.Concurrent;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Core.Views;
using Profefe.Pprof;

namespace Profefe.Server.Pyroscope.Query;

/// <summary>The three questions answered over profefe's find and merge: every profile of the range is read (its totals once, then cached).</summary>
internal sealed partial class PyroscopeQueryService
{
    // Stored profiles never change, so what was read of one stays true; the bound only caps memory.
    private const int MaxCachedShapes = 200_000;
    private const int ReadBatch = 256;

    private readonly ConcurrentDictionary<ProfileId, ProfileShape> _shapes = new();
    private readonly ProfileDecoderOptions _decoderOptions = new() { MaxDecompressedBytes = options.Value.MaxDecompressedBytes, RequireSamples = false };

    /// <param name="SampleIndex">Where the series' sample type is among the profile's.</param>
    /// <param name="Total">The profile's total of that sample type.</param>
    /// <param name="Layout">Profiles with equal layouts (sample and period types) can be merged as they are.</param>
    private sealed record SelectedProfile(ProfileMeta Meta, int SampleIndex, long Total, string Layout);

    private sealed record RawSeries(Series Series, List<SelectedProfile> Profiles);

    private sealed record ProfileShape(IReadOnlyList<SampleType> SampleTypes, SampleType? PeriodType, IReadOnlyList<long> Totals)
    {
        public string Layout { get; } = string.Join(",", SampleTypes) + "|" + PeriodType;
    }

    private async Task<List<RawSeries>> FindRawSeriesAsync(TenantId tenant, IReadOnlyList<LabelSelector> selectors, DateTime from, DateTime to, CancellationToken cancellationToken)
    {
        var candidates = new List<(ProfileMeta Meta, List<Label> Labels)>();
        foreach (var service in await ServicesAsync(tenant, selectors, cancellationToken).ConfigureAwait(false))
        {
            var type = TypeOf(selectors);
            var metas = await reader.FindProfilesAsync(tenant, new ProfileQuery(service, type, [], from, to), cancellationToken).ConfigureAwait(false);
            foreach (var meta in metas)
            {
                if (IsCandidate(meta, selectors, out var labels))
                {
                    candidates.Add((meta, labels));
                }
            }
        }

        return await RawSeriesOfAsync(tenant, candidates, selectors, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The series the profiles logged after the engine's cursor (<paramref name="uncut"/>, already selected) add.</summary>
    private async Task<List<RawSeries>> UncutSeriesAsync(TenantId tenant, List<ProfileMeta> uncut, IReadOnlyList<LabelSelector> selectors, CancellationToken cancellationToken)
    {
        var candidates = new List<(ProfileMeta Meta, List<Label> Labels)>(uncut.Count);
        foreach (var meta in uncut)
        {
            candidates.Add((meta, SeriesLabels.Of(meta)));
        }

        return await RawSeriesOfAsync(tenant, candidates, selectors, cancellationToken).ConfigureAwait(false);
    }

    // Whether a stored profile can be in a series the selectors select (their profile type is matched per sample type).
    private static bool IsCandidate(ProfileMeta meta, IReadOnlyList<LabelSelector> selectors, out List<Label> labels)
    {
        labels = [];
        if (meta.Type is ProfileType.Trace or ProfileType.Unknown)
        {
            return false;
        }

        labels = SeriesLabels.Of(meta);
        return AnyMatches(selectors, labels, ignoreProfileType: true);
    }

    private async Task<List<RawSeries>> RawSeriesOfAsync(
        TenantId tenant, List<(ProfileMeta Meta, List<Label> Labels)> candidates, IReadOnlyList<LabelSelector> selectors, CancellationToken cancellationToken)
    {
        await LoadShapesAsync(tenant, candidates, cancellationToken).ConfigureAwait(false);
        var series = new Dictionary<string, RawSeries>(StringComparer.Ordinal);
        foreach (var (meta, labels) in candidates)
        {
            if (!_shapes.TryGetValue(meta.ProfileId, out var shape))
            {
                continue;
            }

            foreach (var (i, typeId, all) in MatchingSampleTypes(labels, shape.SampleTypes, shape.PeriodType, selectors))
            {
                var key = Key(all);
                if (!series.TryGetValue(key, out var entry))
                {
                    entry = new RawSeries(new Series(all, typeId), []);
                    series.Add(key, entry);
                }

                entry.Profiles.Add(new SelectedProfile(meta, i, shape.Totals[i], shape.Layout));
            }
        }

        return [.. series.Values];
    }

    /// <summary>The profiles of the series, each with its series, ascending by time.</summary>
    private static List<(Series Series, SelectedProfile Profile)> Selection(List<RawSeries> found)
    {
        var selected = new List<(Series, SelectedProfile)>();
        foreach (var series in found)
        {
            foreach (var profile in series.Profiles)
            {
                selected.Add((series.Series, profile));
            }
        }

        selected.Sort(static (a, b) => a.Item2.Meta.CreatedAt.CompareTo(b.Item2.Meta.CreatedAt));
        return selected;
    }

    private async Task<Profile?> MergeRawAsync(TenantId tenant, ProfileTypeId type, LabelSelector selector, DateTime from, DateTime to, IReadOnlyList<string>? callSite, CancellationToken cancellationToken)
    {
        var found = await FindRawSeriesAsync(tenant, [Typed(selector, type)], from, to, cancellationToken).ConfigureAwait(false);
        return await MergeSelectionAsync(tenant, Selection(found), callSite, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Profile?> MergeSelectionAsync(TenantId tenant, List<(Series Series, SelectedProfile Profile)> selection, IReadOnlyList<string>? callSite, CancellationToken cancellationToken)
    {
        if (selection.Count == 0)
        {
            return null;
        }

        // Profiles of one layout merge as profefe merges them; layouts differ only when services send different
        // sample types under one profile type, and then each layout's merge is reduced before they are combined.
        var layouts = new Dictionary<string, (List<ProfileId> Ids, int SampleIndex)>(StringComparer.Ordinal);
        foreach (var (_, profile) in selection)
        {
            if (!layouts.TryGetValue(profile.Layout, out var layout))
            {
                layout = ([], profile.SampleIndex);
                layouts.Add(profile.Layout, layout);
            }

            layout.Ids.Add(profile.Meta.ProfileId);
        }

        return await CombinePartsAsync(
            layouts.Values,
            static layout => layout.SampleIndex,
            async layout => await querier.MergeProfilesAsync(tenant, layout.Ids, cancellationToken).ConfigureAwait(false),
            callSite).ConfigureAwait(false);
    }

    private async Task AddRawTotalsAsync(TenantId tenant, StepTotals totals, ProfileTypeId type, LabelSelector selector, DateTime from, DateTime to, long startMs, long stepMs, CancellationToken cancellationToken)
    {
        var found = await FindRawSeriesAsync(tenant, [Typed(selector, type)], from, to, cancellationToken).ConfigureAwait(false);
        AddSelectionTotals(totals, Selection(found), startMs, stepMs);
    }

    private static void AddSelectionTotals(StepTotals totals, List<(Series Series, SelectedProfile Profile)> selection, long startMs, long stepMs)
    {
        foreach (var (series, profile) in selection)
        {
            var timeMs = (profile.Meta.CreatedAt - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMillisecond;
            var steps = timeMs <= startMs ? 0 : ((timeMs - startMs) + stepMs - 1) / stepMs;
            totals.Add(series.Labels, startMs + (steps * stepMs), profile.Total, 1);
        }
    }

    /// <summary>Reads the sample types and totals of the profiles not read before, a batch at a time.</summary>
    private async Task LoadShapesAsync(TenantId tenant, List<(ProfileMeta Meta, List<Label> Labels)> candidates, CancellationToken cancellationToken)
    {
        var missing = new List<ProfileId>();
        foreach (var (meta, _) in candidates)
        {
            if (!_shapes.ContainsKey(meta.ProfileId))
            {
                missing.Add(meta.ProfileId);
            }
        }

        if (_shapes.Count + missing.Count > MaxCachedShapes)
        {
            _shapes.Clear();
            missing.Clear();
            foreach (var (meta, _) in candidates)
            {
                missing.Add(meta.ProfileId);
            }
        }

        for (var start = 0; start < missing.Count; start += ReadBatch)
        {
            var batch = missing.GetRange(start, Math.Min(ReadBatch, missing.Count - start));
            await foreach (var stored in reader.ListProfilesAsync(tenant, batch, cancellationToken).ConfigureAwait(false))
            {
                if (ReadShape(stored.Data) is { } shape)
                {
                    _shapes[stored.Meta.ProfileId] = shape;
                }
            }
        }
    }

    private ProfileShape? ReadShape(ReadOnlyMemory<byte> data) =>
        ProfileTotals.Read(data, _decoderOptions) is { } totals ? new ProfileShape(totals.SampleTypes, totals.PeriodType, totals.Totals) : null;

}
