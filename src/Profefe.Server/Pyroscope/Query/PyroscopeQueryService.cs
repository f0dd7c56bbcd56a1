using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;
using Profefe.Core.Profiles;
using Profefe.Core.Query;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Core.Views;
using Profefe.Pprof;

namespace Profefe.Server.Pyroscope.Query;

/// <summary>
/// Everything Pyroscope's queries need from the store, in three questions: the series matching label selectors
/// over a time range, the merged profile of a selection, and a selection's totals per time step grouped by labels.
/// Answered here over profefe's find and merge (<see cref="IProfileReader"/>, <see cref="ProfileQuerier"/>); a
/// profile engine can answer the same three questions instead.
/// A series is a stored series (service, type, labels; see <see cref="SeriesLabels"/>) with one of its profiles'
/// sample types, as Pyroscope keeps one series per profile type.
/// </summary>
internal sealed class PyroscopeQueryService(IProfileReader reader, ProfileQuerier querier, IOptions<CollectorOptions> options)
{
    // Stored profiles never change, so what was read of one stays true; the bound only caps memory.
    private const int MaxCachedShapes = 200_000;
    private const int ReadBatch = 256;

    private readonly ConcurrentDictionary<ProfileId, ProfileShape> _shapes = new();
    private readonly ProfileDecoderOptions _decoderOptions = new() { MaxDecompressedBytes = options.Value.MaxDecompressedBytes, RequireSamples = false };

    /// <summary>One series and its profiles in the range, ascending by time.</summary>
    public sealed record Series(IReadOnlyList<Label> Labels, ProfileTypeId Type, List<SelectedProfile> Profiles);

    /// <param name="SampleIndex">Where the series' sample type is among the profile's.</param>
    /// <param name="Total">The profile's total of that sample type.</param>
    /// <param name="Layout">Profiles with equal layouts (sample and period types) can be merged as they are.</param>
    public sealed record SelectedProfile(ProfileMeta Meta, int SampleIndex, long Total, string Layout);

    private sealed record ProfileShape(IReadOnlyList<SampleType> SampleTypes, SampleType? PeriodType, IReadOnlyList<long> Totals)
    {
        public string Layout { get; } = string.Join(",", SampleTypes) + "|" + PeriodType;
    }

    /// <summary>Series matching any of <paramref name="selectors"/> with a profile in [from, to], sorted by labels.</summary>
    public async Task<IReadOnlyList<Series>> FindSeriesAsync(TenantId tenant, IReadOnlyList<LabelSelector> selectors, DateTime from, DateTime to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(selectors);
        var candidates = new List<(ProfileMeta Meta, List<Label> Labels)>();
        foreach (var service in await ServicesAsync(tenant, selectors, cancellationToken).ConfigureAwait(false))
        {
            var type = TypeOf(selectors);
            var metas = await reader.FindProfilesAsync(tenant, new ProfileQuery(service, type, [], from, to), cancellationToken).ConfigureAwait(false);
            foreach (var meta in metas)
            {
                if (meta.Type is ProfileType.Trace or ProfileType.Unknown)
                {
                    continue;
                }

                var labels = SeriesLabels.Of(meta);
                if (AnyMatches(selectors, labels, ignoreProfileType: true))
                {
                    candidates.Add((meta, labels));
                }
            }
        }

        await LoadShapesAsync(tenant, candidates, cancellationToken).ConfigureAwait(false);
        var series = new Dictionary<string, Series>(StringComparer.Ordinal);
        foreach (var (meta, labels) in candidates)
        {
            if (!_shapes.TryGetValue(meta.ProfileId, out var shape))
            {
                continue;
            }

            var name = labels.Find(static l => l.Key == SeriesLabels.MetricName).Value;
            for (var i = 0; i < shape.SampleTypes.Count; i++)
            {
                var typeId = ProfileTypeId.Of(name, shape.SampleTypes[i], shape.PeriodType);
                var all = SeriesLabels.WithProfileType(labels, typeId.Id, typeId.SampleType, typeId.SampleUnit, typeId.PeriodType, typeId.PeriodUnit);
                if (!AnyMatches(selectors, all, ignoreProfileType: false))
                {
                    continue;
                }

                var key = Key(all);
                if (!series.TryGetValue(key, out var entry))
                {
                    entry = new Series(all, typeId, []);
                    series.Add(key, entry);
                }

                entry.Profiles.Add(new SelectedProfile(meta, i, shape.Totals[i], shape.Layout));
            }
        }

        var result = series.Values.ToList();
        result.Sort(static (a, b) => CompareLabels(a.Labels, b.Labels));
        return result;
    }

    /// <summary>The profiles of <paramref name="type"/> matching <paramref name="selector"/> in [from, to], ascending by time.</summary>
    public async Task<List<(Series Series, SelectedProfile Profile)>> SelectAsync(TenantId tenant, ProfileTypeId type, LabelSelector selector, DateTime from, DateTime to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(selector);
        var typed = new LabelSelector([.. selector.Matchers, new LabelMatcher(SeriesLabels.ProfileTypeName, "=", type.Id, null)]);
        var selected = new List<(Series, SelectedProfile)>();
        foreach (var series in await FindSeriesAsync(tenant, [typed], from, to, cancellationToken).ConfigureAwait(false))
        {
            foreach (var profile in series.Profiles)
            {
                selected.Add((series, profile));
            }
        }

        selected.Sort(static (a, b) => a.Item2.Meta.CreatedAt.CompareTo(b.Item2.Meta.CreatedAt));
        return selected;
    }

    /// <summary>
    /// The merge of the selected profiles (profefe's merge), reduced to the selection's sample type; only stacks
    /// that start at the root with <paramref name="callSite"/> when it is given. Null when nothing is selected.
    /// </summary>
    public async Task<Profile?> MergeAsync(TenantId tenant, IReadOnlyList<SelectedProfile> selection, ProfileTypeId type, IReadOnlyList<string>? callSite, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(selection);
        ArgumentNullException.ThrowIfNull(type);
        if (selection.Count == 0)
        {
            return null;
        }

        // Profiles of one layout merge as profefe merges them; layouts differ only when services send different
        // sample types under one profile type, and then each layout's merge is reduced before they are combined.
        var layouts = new Dictionary<string, (List<ProfileId> Ids, int SampleIndex)>(StringComparer.Ordinal);
        foreach (var profile in selection)
        {
            if (!layouts.TryGetValue(profile.Layout, out var layout))
            {
                layout = ([], profile.SampleIndex);
                layouts.Add(profile.Layout, layout);
            }

            layout.Ids.Add(profile.Meta.ProfileId);
        }

        Profile? result = null;
        ProfileMerger? combined = null;
        foreach (var (ids, sampleIndex) in layouts.Values)
        {
            var merged = await querier.MergeProfilesAsync(tenant, ids, cancellationToken).ConfigureAwait(false);
            Reduce(merged, sampleIndex, callSite);
            if (result is null)
            {
                result = merged;
            }
            else
            {
                if (combined is null)
                {
                    combined = new ProfileMerger();
                    combined.Add(result);
                }

                combined.Add(merged);
            }
        }

        return combined?.ToProfile() ?? result;
    }

    /// <summary>
    /// Totals per step: a profile taken at t counts for the step ending at or after t (start + k·step), as
    /// Pyroscope's range queries count; one series per distinct value of the <paramref name="groupBy"/> labels,
    /// sorted by labels; with <paramref name="limit"/> &gt; 0 only the series with the largest sums.
    /// </summary>
    public static List<(IReadOnlyList<Label> Labels, List<(long TimestampMs, double Value)> Points)> TotalsByStep(
        List<(Series Series, SelectedProfile Profile)> selection, long startMs, long stepMs, IReadOnlyList<string> groupBy, bool average, long limit)
    {
        ArgumentNullException.ThrowIfNull(selection);
        ArgumentNullException.ThrowIfNull(groupBy);
        var groups = new Dictionary<string, (List<Label> Labels, SortedDictionary<long, (double Sum, int Count)> Steps, double Total)>(StringComparer.Ordinal);
        foreach (var (series, profile) in selection)
        {
            var labels = new List<Label>();
            foreach (var name in groupBy)
            {
                var label = series.Labels.FirstOrDefault(l => l.Key == name);
                if (label.Key is not null)
                {
                    labels.Add(label);
                }
            }

            var key = Key(labels);
            if (!groups.TryGetValue(key, out var group))
            {
                group = (labels, new SortedDictionary<long, (double, int)>(), 0);
            }

            var timeMs = (profile.Meta.CreatedAt - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMillisecond;
            var steps = timeMs <= startMs ? 0 : ((timeMs - startMs) + stepMs - 1) / stepMs;
            var at = startMs + (steps * stepMs);
            group.Steps.TryGetValue(at, out var point);
            group.Steps[at] = (point.Sum + profile.Total, point.Count + 1);
            groups[key] = (group.Labels, group.Steps, group.Total + profile.Total);
        }

        var ordered = groups.Values.ToList();
        if (limit > 0 && ordered.Count > limit)
        {
            ordered.Sort(static (a, b) => b.Total.CompareTo(a.Total));
            ordered.RemoveRange((int)limit, ordered.Count - (int)limit);
        }

        ordered.Sort(static (a, b) => CompareLabels(a.Labels, b.Labels));
        var result = new List<(IReadOnlyList<Label>, List<(long, double)>)>(ordered.Count);
        foreach (var group in ordered)
        {
            var points = new List<(long, double)>(group.Steps.Count);
            foreach (var (at, point) in group.Steps)
            {
                points.Add((at, average ? point.Sum / point.Count : point.Sum));
            }

            result.Add((group.Labels, points));
        }

        return result;
    }

    /// <summary>The times of the oldest and newest stored profile, or null when the store is empty.</summary>
    public async Task<(DateTime Oldest, DateTime Newest)?> TimeRangeAsync(TenantId tenant, CancellationToken cancellationToken)
    {
        (DateTime, DateTime)? range = null;
        foreach (var service in await reader.ListServicesAsync(tenant, cancellationToken).ConfigureAwait(false))
        {
            var metas = await reader.FindProfilesAsync(tenant, new ProfileQuery(service, null, [], DateTime.MinValue, DateTime.MaxValue), cancellationToken).ConfigureAwait(false);
            if (metas.Count > 0)
            {
                var (oldest, newest) = range ?? (DateTime.MaxValue, DateTime.MinValue);
                range = (metas[0].CreatedAt < oldest ? metas[0].CreatedAt : oldest, metas[^1].CreatedAt > newest ? metas[^1].CreatedAt : newest);
            }
        }

        return range;
    }

    /// <summary>Keeps one sample type, and only the stacks under the call site; drops samples left at zero.</summary>
    private static void Reduce(Profile profile, int sampleIndex, IReadOnlyList<string>? callSite)
    {
        var sampleType = profile.SampleTypes[sampleIndex];
        profile.SampleTypes.Clear();
        profile.SampleTypes.Add(sampleType);
        profile.DefaultSampleType = "";
        profile.Samples.RemoveAll(sample =>
        {
            var value = sampleIndex < sample.Values.Length ? sample.Values[sampleIndex] : 0;
            sample.Values = [value];
            return value == 0 || (callSite is { Count: > 0 } && !StartsWith(sample, callSite));
        });
    }

    private static bool StartsWith(Sample sample, IReadOnlyList<string> callSite)
    {
        var depth = 0;
        for (var i = sample.Locations.Length - 1; i >= 0; i--)
        {
            var lines = sample.Locations[i].Lines;
            for (var j = lines.Length - 1; j >= 0; j--)
            {
                if (depth == callSite.Count)
                {
                    return true;
                }

                if ((lines[j].Function?.Name ?? "") != callSite[depth])
                {
                    return false;
                }

                depth++;
            }
        }

        return depth == callSite.Count;
    }

    private async Task<IReadOnlyList<string>> ServicesAsync(TenantId tenant, IReadOnlyList<LabelSelector> selectors, CancellationToken cancellationToken)
    {
        // Every selector pinning service_name: only those services are read. Otherwise all of them.
        var pinned = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var selector in selectors)
        {
            if (selector.EqualValueOf(SeriesLabels.ServiceName) is not { } service)
            {
                return await reader.ListServicesAsync(tenant, cancellationToken).ConfigureAwait(false);
            }

            pinned.Add(service);
        }

        return [.. pinned];
    }

    /// <summary>The one profefe type every selector pins through __name__, or null.</summary>
    private static ProfileType? TypeOf(IReadOnlyList<LabelSelector> selectors)
    {
        ProfileType? type = null;
        foreach (var selector in selectors)
        {
            var name = selector.EqualValueOf(SeriesLabels.MetricName)
                ?? selector.EqualValueOf(SeriesLabels.ProfileTypeName)?.Split(':')[0];
            if (name is null || (type is not null && type != SeriesLabels.TypeOf(name)))
            {
                return null;
            }

            type = SeriesLabels.TypeOf(name);
        }

        return type;
    }

    private static bool AnyMatches(IReadOnlyList<LabelSelector> selectors, List<Label> labels, bool ignoreProfileType)
    {
        if (selectors.Count == 0)
        {
            return true;
        }

        foreach (var selector in selectors)
        {
            var matches = true;
            foreach (var matcher in selector.Matchers)
            {
                if (ignoreProfileType && SeriesLabels.IsProfileTypeLabel(matcher.Name))
                {
                    continue;
                }

                var value = labels.Find(l => l.Key == matcher.Name).Value ?? "";
                if (!matcher.Matches(value))
                {
                    matches = false;
                    break;
                }
            }

            if (matches)
            {
                return true;
            }
        }

        return false;
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

    private ProfileShape? ReadShape(ReadOnlyMemory<byte> data)
    {
        if (ProfileTotals.TryRead(data, _decoderOptions.MaxDecompressedBytes, out var totals) && totals is not null)
        {
            return new ProfileShape(totals.SampleTypes, totals.PeriodType, totals.Totals);
        }

        try
        {
            // Legacy text formats: decode in full.
            var profile = ProfileDecoder.Decode(data.Span, _decoderOptions);
            var sums = new long[profile.SampleTypes.Count];
            for (var i = 0; i < sums.Length; i++)
            {
                sums[i] = SampleTypeIndex.Total(profile, i);
            }

            return new ProfileShape([.. profile.SampleTypes], profile.PeriodType, sums);
        }
        catch (ProfileFormatException)
        {
            return null;
        }
    }

    private static string Key(List<Label> labels) => string.Join('\u0001', labels.Select(static l => l.Key + "\u0002" + l.Value));

    private static int CompareLabels(IReadOnlyList<Label> a, IReadOnlyList<Label> b)
    {
        for (var i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            var c = string.CompareOrdinal(a[i].Key, b[i].Key);
            if (c == 0)
            {
                c = string.CompareOrdinal(a[i].Value, b[i].Value);
            }

            if (c != 0)
            {
                return c;
            }
        }

        return a.Count.CompareTo(b.Count);
    }
}
