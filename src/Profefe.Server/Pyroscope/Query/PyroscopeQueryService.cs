using Microsoft.Extensions.Options;
using Profefe.Core.Engine;
using Profefe.Core.Ingest;
using Profefe.Core.Profiles;
using Profefe.Core.Query;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Pprof;

namespace Profefe.Server.Pyroscope.Query;

/// <summary>
/// Everything Pyroscope's queries need from the store, in three questions: the series matching label selectors
/// over a time range, the merged profile of a selection, and a selection's totals per time step grouped by labels.
/// Answered by the profile engine (its series, rollups and totals; PyroscopeQueryService.Engine.cs) as of one cursor
/// into the write log, with the matching profiles logged after it (not cut yet) read raw beside it, so that a read
/// never waits for the cutter; past the merge cap or the engine's backlog limit, once the engine has taken in every
/// stored profile, otherwise over profefe's find and merge (<see cref="IProfileReader"/>, <see cref="ProfileQuerier"/>;
/// PyroscopeQueryService.Raw.cs), which read every profile of the range.
/// A series is a stored series (service, type, labels; see <see cref="SeriesLabels"/>) with one of its profiles'
/// sample types, as Pyroscope keeps one series per profile type.
/// </summary>
internal sealed partial class PyroscopeQueryService(IProfileReader reader, ProfileQuerier querier, IOptions<CollectorOptions> options, ProfileEngine? engine = null)
{
    /// <summary>One series: its labels (with the profile type's) and its profile type.</summary>
    public sealed record Series(IReadOnlyList<Label> Labels, ProfileTypeId Type);

    private readonly int _maxMergeProfiles = options.Value.MaxMergeProfiles;

    /// <summary>Series matching any of <paramref name="selectors"/> with a profile in [from, to], sorted by labels.</summary>
    public async Task<IReadOnlyList<Series>> FindSeriesAsync(TenantId tenant, IReadOnlyList<LabelSelector> selectors, DateTime from, DateTime to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(selectors);
        List<Series> found;
        var (read, engineSeries, uncut) = await ReadEngineAsync(
            tenant, selectors, from, to, async token => await FindEngineSeriesAsync(tenant, selectors, from, to, forRead: false, token).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        if (read || await EngineReadyAsync(cancellationToken).ConfigureAwait(false))
        {
            engineSeries ??= await FindEngineSeriesAsync(tenant, selectors, from, to, forRead: false, cancellationToken).ConfigureAwait(false);

            // Stored labels that Pyroscope's drop (a service_name label) can make two engine series one; an uncut
            // profile's series may be one the engine has.
            found = [];
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var selected in engineSeries)
            {
                if (seen.Add(Key(selected.Series.Labels)))
                {
                    found.Add(selected.Series);
                }
            }

            if (uncut.Count > 0)
            {
                foreach (var series in await UncutSeriesAsync(tenant, uncut, selectors, cancellationToken).ConfigureAwait(false))
                {
                    if (seen.Add(Key(series.Series.Labels)))
                    {
                        found.Add(series.Series);
                    }
                }
            }
        }
        else
        {
            found = (await FindRawSeriesAsync(tenant, selectors, from, to, cancellationToken).ConfigureAwait(false)).ConvertAll(static s => s.Series);
        }

        found.Sort(static (a, b) => CompareLabels(a.Labels, b.Labels));
        return found;
    }

    /// <summary>
    /// The merge of the profiles of <paramref name="type"/> matching <paramref name="selector"/> in [from, to], reduced
    /// to that sample type; only stacks that start at the root with <paramref name="callSite"/> when it is given.
    /// Null when nothing matches.
    /// </summary>
    public async Task<Profile?> MergeAsync(TenantId tenant, ProfileTypeId type, LabelSelector selector, DateTime from, DateTime to, IReadOnlyList<string>? callSite, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(selector);
        LabelSelector[] typed = [Typed(selector, type)];
        var (read, merged, uncut) = await ReadEngineAsync(
            tenant, typed, from, to, token => MergeEngineAsync(tenant, type, selector, from, to, callSite, token), cancellationToken).ConfigureAwait(false);
        if (read)
        {
            if (uncut.Count == 0)
            {
                return merged;
            }

            // The uncut profiles' bytes never change once logged: they are read after the engine's part, outside it.
            var raw = await MergeSelectionAsync(tenant, Selection(await UncutSeriesAsync(tenant, uncut, typed, cancellationToken).ConfigureAwait(false)), callSite, cancellationToken).ConfigureAwait(false);
            return ProfileMerger.Merge(merged, raw);
        }

        return await EngineReadyAsync(cancellationToken).ConfigureAwait(false)
            ? await MergeEngineAsync(tenant, type, selector, from, to, callSite, cancellationToken).ConfigureAwait(false)
            : await MergeRawAsync(tenant, type, selector, from, to, callSite, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Totals of <paramref name="type"/> per step for the profiles matching <paramref name="selector"/> in [from, to]:
    /// a profile taken at t counts for the point at the first start + k·step at or after t, as Pyroscope's range
    /// queries count; one series per distinct value of the <paramref name="groupBy"/> labels, sorted by labels,
    /// averaged per profile when <paramref name="average"/>; with <paramref name="limit"/> &gt; 0 only the series with
    /// the largest sums.
    /// </summary>
    public async Task<List<(IReadOnlyList<Label> Labels, List<(long TimestampMs, double Value)> Points)>> TotalsByStepAsync(
        TenantId tenant, ProfileTypeId type, LabelSelector selector, DateTime from, DateTime to, long startMs, long stepMs, IReadOnlyList<string> groupBy, bool average, long limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(selector);
        ArgumentNullException.ThrowIfNull(groupBy);
        LabelSelector[] typed = [Typed(selector, type)];
        var (read, engineTotals, uncut) = await ReadEngineAsync(
            tenant,
            typed,
            from,
            to,
            async token =>
            {
                // A read that a cut landed under is read again: each attempt sums into totals of its own.
                var attempt = new StepTotals(groupBy);
                await AddEngineTotalsAsync(tenant, attempt, type, selector, from, to, startMs, stepMs, token).ConfigureAwait(false);
                return attempt;
            },
            cancellationToken).ConfigureAwait(false);
        if (read && engineTotals is not null)
        {
            if (uncut.Count > 0)
            {
                AddSelectionTotals(engineTotals, Selection(await UncutSeriesAsync(tenant, uncut, typed, cancellationToken).ConfigureAwait(false)), startMs, stepMs);
            }

            return engineTotals.ToSeries(average, limit);
        }

        var totals = new StepTotals(groupBy);
        if (await EngineReadyAsync(cancellationToken).ConfigureAwait(false))
        {
            await AddEngineTotalsAsync(tenant, totals, type, selector, from, to, startMs, stepMs, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await AddRawTotalsAsync(tenant, totals, type, selector, from, to, startMs, stepMs, cancellationToken).ConfigureAwait(false);
        }

        return totals.ToSeries(average, limit);
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

    /// <summary>
    /// Runs <paramref name="read"/> on the engine as of one cursor and lists the profiles logged after it that the
    /// selectors select in [from, to] (see <see cref="ProfileEngine.ReadAtCursorAsync"/>), without waiting for the
    /// cutter. Read is false when the engine is off or loading, cuts kept landing under the read, the uncut profiles
    /// are more than Collector:MaxMergeProfiles, or a service's backlog is past Engine:MaxCatchUpBacklog.
    /// </summary>
    private async Task<(bool Read, T? Value, List<ProfileMeta> Uncut)> ReadEngineAsync<T>(
        TenantId tenant, IReadOnlyList<LabelSelector> selectors, DateTime from, DateTime to, Func<CancellationToken, Task<T?>> read, CancellationToken cancellationToken)
        where T : class
    {
        if (engine is null)
        {
            return (false, null, []);
        }

        var (answered, parts) = await engine.ReadAtCursorAsync<(List<ProfileMeta>? Uncut, T? Value)>(
            async (cursor, token) =>
            {
                var uncut = await ListUncutAsync(engine, cursor, tenant, selectors, from, to, token).ConfigureAwait(false);
                return uncut is null ? (null, null) : (uncut, await read(token).ConfigureAwait(false));
            },
            cancellationToken).ConfigureAwait(false);
        return answered && parts.Uncut is { } listed ? (true, parts.Value, listed) : (false, null, []);
    }

    // The uncut profiles of every service the selectors may select, all of them counted against the merge cap.
    private async Task<List<ProfileMeta>?> ListUncutAsync(
        ProfileEngine ready, long cursor, TenantId tenant, IReadOnlyList<LabelSelector> selectors, DateTime from, DateTime to, CancellationToken cancellationToken)
    {
        var type = TypeOf(selectors);
        var uncut = new List<ProfileMeta>();
        foreach (var service in await ServicesAsync(tenant, selectors, cancellationToken).ConfigureAwait(false))
        {
            var matching = await ready.ListUncutAsync(
                cursor, tenant, new ProfileQuery(service, type, [], from, to), _maxMergeProfiles - uncut.Count, cancellationToken, meta => IsCandidate(meta, selectors, out _)).ConfigureAwait(false);
            if (matching is null)
            {
                return null;
            }

            uncut.AddRange(matching);
        }

        return uncut;
    }

    // Past the uncut profiles' cap: the engine answers once it holds every stored profile; while it catches up (or when it is off) the raw store does.
    private async Task<bool> EngineReadyAsync(CancellationToken cancellationToken) =>
        engine is not null && await engine.CatchUpAsync(cancellationToken).ConfigureAwait(false);

    // A selector with the profile type pinned: what a query over one type selects.
    private static LabelSelector Typed(LabelSelector selector, ProfileTypeId type) =>
        new([.. selector.Matchers, new LabelMatcher(SeriesLabels.ProfileTypeName, "=", type.Id, null)]);

    /// <summary>Keeps one sample type, and only the stacks under the call site; drops samples left at zero.</summary>
    /// <summary>
    /// The series a stored series (<paramref name="labels"/>) stands for, one per sample type of its layout, that
    /// match <paramref name="selectors"/>: the sample type's index, its profile type and the labels with the type's.
    /// </summary>
    private static IEnumerable<(int SampleIndex, ProfileTypeId Type, List<Label> Labels)> MatchingSampleTypes(
        List<Label> labels, IReadOnlyList<SampleType> sampleTypes, SampleType? periodType, IReadOnlyList<LabelSelector> selectors)
    {
        var name = labels.Find(static l => l.Key == SeriesLabels.MetricName).Value;
        for (var i = 0; i < sampleTypes.Count; i++)
        {
            var typeId = ProfileTypeId.Of(name, sampleTypes[i], periodType);
            var all = SeriesLabels.WithProfileType(labels, typeId.Id, typeId.SampleType, typeId.SampleUnit, typeId.PeriodType, typeId.PeriodUnit);
            if (AnyMatches(selectors, all, ignoreProfileType: false))
            {
                yield return (i, typeId, all);
            }
        }
    }

    /// <summary>
    /// Merges each part (profiles of one layout) on its own, reduces it to its sample type and the call site, and
    /// combines the reduced parts; null when no part has a profile.
    /// </summary>
    private static async Task<Profile?> CombinePartsAsync<TPart>(
        IEnumerable<TPart> parts, Func<TPart, int> sampleIndexOf, Func<TPart, Task<Profile?>> merge, IReadOnlyList<string>? callSite)
    {
        Profile? result = null;
        ProfileMerger? combined = null;
        foreach (var part in parts)
        {
            if (await merge(part).ConfigureAwait(false) is not { } profile)
            {
                continue;
            }

            Reduce(profile, sampleIndexOf(part), callSite);
            if (result is null)
            {
                result = profile;
            }
            else
            {
                if (combined is null)
                {
                    combined = new ProfileMerger();
                    combined.Add(result);
                }

                combined.Add(profile);
            }
        }

        return combined?.ToProfile() ?? result;
    }

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

    private static string Key(IReadOnlyList<Label> labels) => string.Join('\u0001', labels.Select(static l => l.Key + "\u0002" + l.Value));

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

    /// <summary>
    /// Sums per (group, point) of what each series contributes; one implementation of Pyroscope's grouping, averaging
    /// and limit for both the engine's totals and the raw profiles' totals.
    /// </summary>
    private sealed class StepTotals(IReadOnlyList<string> groupBy)
    {
        private readonly Dictionary<string, (List<Label> Labels, SortedDictionary<long, (double Sum, long Count)> Points, double Total)> _groups = new(StringComparer.Ordinal);

        public void Add(IReadOnlyList<Label> seriesLabels, long pointMs, double sum, long count)
        {
            var labels = new List<Label>();
            foreach (var name in groupBy)
            {
                foreach (var label in seriesLabels)
                {
                    if (label.Key == name)
                    {
                        labels.Add(label);
                        break;
                    }
                }
            }

            var key = Key(labels);
            if (!_groups.TryGetValue(key, out var group))
            {
                group = (labels, new SortedDictionary<long, (double, long)>(), 0);
            }

            group.Points.TryGetValue(pointMs, out var point);
            group.Points[pointMs] = (point.Sum + sum, point.Count + count);
            _groups[key] = (group.Labels, group.Points, group.Total + sum);
        }

        public List<(IReadOnlyList<Label> Labels, List<(long TimestampMs, double Value)> Points)> ToSeries(bool average, long limit)
        {
            var ordered = _groups.Values.ToList();
            if (limit > 0 && ordered.Count > limit)
            {
                ordered.Sort(static (a, b) => b.Total.CompareTo(a.Total));
                ordered.RemoveRange((int)limit, ordered.Count - (int)limit);
            }

            ordered.Sort(static (a, b) => CompareLabels(a.Labels, b.Labels));
            var result = new List<(IReadOnlyList<Label>, List<(long, double)>)>(ordered.Count);
            foreach (var group in ordered)
            {
                var points = new List<(long, double)>(group.Points.Count);
                foreach (var (at, point) in group.Points)
                {
                    if (point.Count > 0)
                    {
                        points.Add((at, average ? point.Sum / point.Count : point.Sum));
                    }
                }

                result.Add((group.Labels, points));
            }

            return result;
        }
    }
}
