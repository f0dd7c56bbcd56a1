using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Core.Engine;
using Profefe.Core.Engine.Query;
using Profefe.Core.Ingest;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Core.Text;
using Profefe.Core.Views;
using Profefe.Pprof;

namespace Profefe.Core.Query;

/// <summary>
/// Answers the read side of profefe's API: finds, single downloads, merges by id and by query, services
/// and labels. Merges stream: each stored profile is decoded and folded in before the next is read
/// (<see cref="StoredProfileMerger"/>, in parts on several threads when big). With the profile engine, merges by
/// query and time series read its rollups and blocks instead, and downloads of profiles whose raw bytes are gone
/// are rebuilt from it.
/// </summary>
public sealed class ProfileQuerier
{
    private readonly IProfileReader _reader;
    private readonly ILogger<ProfileQuerier> _logger;
    private readonly int _maxMergeProfiles;
    private readonly ProfileDecoderOptions _decoderOptions;
    private readonly ProfileEngine? _engine;

    // Whether raw profiles are deleted before the engine's copies: finds then also ask the engine.
    private readonly bool _engineOutlivesRaw;

    public ProfileQuerier(
        IProfileReader reader, IOptions<CollectorOptions> options, ILogger<ProfileQuerier> logger, ProfileEngine? engine = null, IOptions<RetentionOptions>? retention = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _reader = reader;
        _engine = engine;
        if (engine is not null && retention?.Value is { } r && r.EffectiveRawPeriod > TimeSpan.Zero)
        {
            _engineOutlivesRaw = r.Period == TimeSpan.Zero || r.EffectiveRawPeriod < r.Period;
        }

        _logger = logger;
        _maxMergeProfiles = options.Value.MaxMergeProfiles;
        _decoderOptions = new ProfileDecoderOptions { MaxDecompressedBytes = options.Value.MaxDecompressedBytes };
    }

    /// <summary>Metas matching <paramref name="query"/>, ascending by creation time.</summary>
    /// <exception cref="ProfileRequestException">404 "nothing found" when nothing matches.</exception>
    public async Task<IReadOnlyList<ProfileMeta>> FindProfilesAsync(TenantId tenant, ProfileQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var metas = await _reader.FindProfilesAsync(tenant, query, cancellationToken).ConfigureAwait(false);
        if (_engineOutlivesRaw && _engine is not null)
        {
            metas = await AddEngineMetasAsync(_engine, tenant, query, metas, cancellationToken).ConfigureAwait(false);
        }

        return metas.Count == 0 ? throw ProfileRequestException.NothingFound() : metas;
    }

    /// <summary>The tenant's profile's meta and its bytes exactly as stored.</summary>
    /// <exception cref="ProfileRequestException">404 "nothing found" when the id is unknown or another tenant's.</exception>
    public async Task<StoredProfile> GetProfileAsync(TenantId tenant, ProfileId id, CancellationToken cancellationToken)
    {
        await foreach (var stored in _reader.ListProfilesAsync(tenant, [id], cancellationToken).ConfigureAwait(false))
        {
            return stored;
        }

        if (_engine is not null && await _engine.Querier.GetAsync(tenant.Key, id, cancellationToken).ConfigureAwait(false) is { } rebuilt)
        {
            return new StoredProfile(rebuilt.Meta, ProfileEncoder.EncodeToArray(rebuilt.Profile));
        }

        throw ProfileRequestException.NothingFound();
    }

    /// <summary>The merge of the profiles <paramref name="ids"/> (an id given twice counts twice, as in profefe).</summary>
    /// <exception cref="ProfileRequestException">
    /// 400 when there are more ids than the merge limit; 404 naming the unknown ids; 500
    /// <c>failed to get profile by id "…": reason</c> when the profiles cannot be merged (different types, traces).
    /// </exception>
    public async Task<Profile> MergeProfilesAsync(TenantId tenant, IReadOnlyList<ProfileId> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            throw ProfileRequestException.NothingFound();
        }

        CheckMergeSize(ids.Count);

        // The store is asked for each id once; an id given twice is merged twice, as profefe does.
        var multiplicity = new Dictionary<ProfileId, int>();
        var distinct = new List<ProfileId>(ids.Count);
        for (var i = 0; i < ids.Count; i++)
        {
            if (multiplicity.TryGetValue(ids[i], out var count))
            {
                multiplicity[ids[i]] = count + 1;
            }
            else
            {
                multiplicity[ids[i]] = 1;
                distinct.Add(ids[i]);
            }
        }

        StoredMerge merge;
        try
        {
            merge = await StoredProfileMerger.MergeAsync(_reader, tenant, distinct, multiplicity, MergeDecoderOptions(), cancellationToken).ConfigureAwait(false);
        }
        catch (ProfileFormatException e)
        {
            Log.MergeFailed(_logger, JoinIds(ids), e);
            // profefe's text, then the reason it left in its log: the caller can do something about the reason.
            throw new ProfileRequestException(500, $"failed to get profile by id {GoText.Quote(JoinIds(ids))}: {e.Message}", e);
        }

        if (merge.Found.Count < distinct.Count)
        {
            return await MergeWithRebuiltAsync(tenant, merge, distinct, multiplicity, ids, cancellationToken).ConfigureAwait(false);
        }

        return merge.Profile!;
    }

    // Profiles whose raw bytes retention deleted are rebuilt from the engine and merged in, each as often as asked.
    private async Task<Profile> MergeWithRebuiltAsync(
        TenantId tenant, StoredMerge merge, List<ProfileId> distinct, Dictionary<ProfileId, int> multiplicity, IReadOnlyList<ProfileId> ids, CancellationToken cancellationToken)
    {
        if (_engine is null)
        {
            throw UnknownIds(distinct, merge.Found);
        }

        var found = new HashSet<ProfileId>(merge.Found);
        var merger = new ProfileMerger();
        if (merge.Profile is not null)
        {
            merger.Add(merge.Profile);
        }

        try
        {
            foreach (var id in distinct)
            {
                if (found.Contains(id) || await _engine.Querier.GetAsync(tenant.Key, id, cancellationToken).ConfigureAwait(false) is not { } rebuilt)
                {
                    continue;
                }

                found.Add(id);
                for (var i = 0; i < multiplicity[id]; i++)
                {
                    merger.Add(rebuilt.Profile);
                }
            }

            return found.Count < distinct.Count ? throw UnknownIds(distinct, found) : merger.ToProfile();
        }
        catch (ProfileFormatException e)
        {
            Log.MergeFailed(_logger, JoinIds(ids), e);
            throw new ProfileRequestException(500, $"failed to get profile by id {GoText.Quote(JoinIds(ids))}: {e.Message}", e);
        }
    }

    /// <summary>The merge of every profile <paramref name="query"/> finds.</summary>
    /// <exception cref="ProfileRequestException">
    /// 405 for an unknown or trace type; 404 when nothing matches; 400 when more profiles match than the
    /// merge limit allows (narrow the time range or set <c>limit</c>).
    /// </exception>
    public async Task<Profile> MergeProfilesAsync(TenantId tenant, ProfileQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        CheckMergeable(query.Type);
        if (query.Limit == 0 && _engine is not null)
        {
            if (await MergeBlocksAndUncutAsync(_engine, tenant, query, cancellationToken).ConfigureAwait(false) is (true, var merged))
            {
                return merged ?? throw ProfileRequestException.NothingFound();
            }

            if (await _engine.CatchUpAsync(cancellationToken).ConfigureAwait(false))
            {
                return await MergeFromEngineAsync(_engine, tenant, query, cancellationToken).ConfigureAwait(false);
            }
        }

        var metas = await FindProfilesAsync(tenant, query, cancellationToken).ConfigureAwait(false);
        CheckMergeSize(metas.Count);
        var ids = new ProfileId[metas.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = metas[i].ProfileId;
        }

        StoredMerge merge;
        try
        {
            merge = await StoredProfileMerger.MergeAsync(_reader, tenant, ids, null, MergeDecoderOptions(), cancellationToken).ConfigureAwait(false);
        }
        catch (ProfileFormatException e)
        {
            Log.MergeFailed(_logger, ControlCharacters.Escape(query.Service), e);
            throw new ProfileRequestException(500, $"failed to merge profiles: {e.Message}", e);
        }

        // Retention may have deleted every match between the find and the read.
        return merge.Profile ?? throw ProfileRequestException.NothingFound();
    }

    /// <summary>
    /// Totals per <paramref name="step"/> of the profiles of a service and type over [from, to], grouped by the
    /// values of the label <paramref name="groupBy"/> when given; answered from the engine's totals.
    /// </summary>
    /// <exception cref="ProfileRequestException">503 when the engine is off or still catching up.</exception>
    public async Task<EngineTimeSeries> GetTimeSeriesAsync(
        TenantId tenant,
        string service, ProfileType type, IReadOnlyList<Label> labels, DateTime from, DateTime to, TimeSpan step, string? groupBy, CancellationToken cancellationToken)
    {
        if (_engine is not null && await SeriesWithUncutAsync(_engine, tenant, new ProfileQuery(service, type, labels, from, to), step, groupBy, cancellationToken).ConfigureAwait(false) is { } series)
        {
            return series;
        }

        if (_engine is null || !await _engine.CatchUpAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new ProfileRequestException(503, "time series need the profile engine, which is off or still taking in stored profiles; try again shortly");
        }

        return await _engine.Querier.SeriesAsync(tenant.Key, service, type, labels, from, to, step, groupBy, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The engine's time series as of its cursor with the totals of the matching profiles logged after it added, each
    /// decoded once; null when the engine cannot read at one cursor now or the uncut profiles are over the merge cap.
    /// </summary>
    private async Task<EngineTimeSeries?> SeriesWithUncutAsync(ProfileEngine engine, TenantId tenant, ProfileQuery query, TimeSpan step, string? groupBy, CancellationToken cancellationToken)
    {
        var (read, parts) = await engine.ReadAtCursorAsync<SeriesParts?>(async (cursor, token) =>
        {
            var uncut = await engine.ListUncutAsync(cursor, tenant, query, _maxMergeProfiles, token).ConfigureAwait(false);
            return uncut is null ? null : new SeriesParts(uncut, await engine.Querier.SeriesAsync(tenant.Key, query.Service, query.Type!.Value, query.Labels, query.From, query.To, step, groupBy, token).ConfigureAwait(false));
        }, cancellationToken).ConfigureAwait(false);
        if (!read || parts is null)
        {
            return null;
        }

        if (parts.Uncut.Count == 0)
        {
            return parts.Series;
        }

        var byId = new Dictionary<ProfileId, ProfileMeta>(parts.Uncut.Count);
        foreach (var meta in parts.Uncut)
        {
            byId[meta.ProfileId] = meta;
        }

        var sampleTypes = parts.Series.SampleTypes;
        var groups = new SortedDictionary<string, EngineSeriesPoints>(StringComparer.Ordinal);
        foreach (var group in parts.Series.Groups)
        {
            groups[group.Group] = group;
        }

        var points = (int)((query.To.Ticks - query.From.Ticks) / step.Ticks) + 1;
        await foreach (var stored in _reader.ListProfilesAsync(tenant, [.. byId.Keys], cancellationToken).ConfigureAwait(false))
        {
            if (ProfileTotals.Read(stored.Data, _decoderOptions) is not { } totals)
            {
                // The cutter leaves such bytes out of the engine too.
                continue;
            }

            if (sampleTypes.Count == 0)
            {
                sampleTypes = [.. totals.SampleTypes.Select(static t => t.Type + "/" + t.Unit)];
            }

            var meta = byId[stored.Meta.ProfileId];
            var key = groupBy is null ? "" : LabelFilter.ValueOf(meta.Labels, groupBy);
            if (!groups.TryGetValue(key, out var group))
            {
                group = new EngineSeriesPoints(key, new long[points * sampleTypes.Count], new long[points], sampleTypes.Count);
                groups[key] = group;
            }

            group.Add((int)((meta.CreatedAt.Ticks - query.From.Ticks) / step.Ticks), [.. totals.Totals], 1);
        }

        return new EngineTimeSeries(sampleTypes, [.. groups.Values]);
    }

    /// <summary>Throws profefe's 405 for types a merge cannot handle.</summary>
    public static void CheckMergeable(ProfileType? type)
    {
        if (type is null or ProfileType.Unknown)
        {
            throw new ProfileRequestException(405, "can't merge profiles of unknown type");
        }

        if (type == ProfileType.Trace)
        {
            throw new ProfileRequestException(405, "can't merge profiles of trace type");
        }
    }

    /// <summary>Every service of the tenant with at least one stored profile, sorted; empty when it has none.</summary>
    public async Task<IReadOnlyList<string>> ListServicesAsync(TenantId tenant, CancellationToken cancellationToken)
    {
        var services = await _reader.ListServicesAsync(tenant, cancellationToken).ConfigureAwait(false);
        if (!_engineOutlivesRaw || _engine is null)
        {
            return services;
        }

        var all = _engine.Catalog.Describe(tenant.Key, null).Services;
        all.UnionWith(services);
        return [.. all];
    }

    /// <summary>Label keys and their values on the tenant's <paramref name="service"/>'s profiles (every service when null).</summary>
    public async Task<IReadOnlyList<LabelValues>> ListLabelsAsync(TenantId tenant, string? service, CancellationToken cancellationToken)
    {
        service = string.IsNullOrEmpty(service) ? null : service;
        var labels = await _reader.ListLabelsAsync(tenant, service, cancellationToken).ConfigureAwait(false);
        if (!_engineOutlivesRaw || _engine is null)
        {
            return labels;
        }

        var all = _engine.Catalog.Describe(tenant.Key, service).Labels;
        foreach (var label in labels)
        {
            if (!all.TryGetValue(label.Key, out var values))
            {
                values = new SortedSet<string>(StringComparer.Ordinal);
                all[label.Key] = values;
            }

            values.UnionWith(label.Values);
        }

        var merged = new List<LabelValues>(all.Count);
        foreach (var (key, values) in all)
        {
            merged.Add(new LabelValues(key, [.. values]));
        }

        return merged;
    }

    // Profiles whose raw rows retention deleted are still in the engine: the find is the union, in find order.
    private static async Task<IReadOnlyList<ProfileMeta>> AddEngineMetasAsync(ProfileEngine engine, TenantId tenant, ProfileQuery query, IReadOnlyList<ProfileMeta> raw, CancellationToken cancellationToken)
    {
        var all = await engine.Querier.FindAsync(tenant.Key, query with { Limit = 0 }, cancellationToken).ConfigureAwait(false);
        if (all.Count == 0)
        {
            return raw;
        }

        var seen = new HashSet<ProfileId>(all.Count);
        foreach (var meta in all)
        {
            seen.Add(meta.ProfileId);
        }

        foreach (var meta in raw)
        {
            if (seen.Add(meta.ProfileId))
            {
                all.Add(meta);
            }
        }

        all.Sort(static (a, b) => a.CreatedAt != b.CreatedAt ? a.CreatedAt.CompareTo(b.CreatedAt) : a.ProfileId.CompareTo(b.ProfileId));
        return query.Limit > 0 && all.Count > query.Limit ? all[^query.Limit..] : all;
    }

    /// <summary>
    /// The engine's merge as of its cursor plus the matching profiles logged after it, read raw: exact without waiting
    /// for the cutter (behind a burst, or on shared storage behind the lease holder). Answered is false when the
    /// engine cannot read at one cursor now or the uncut profiles are too many; the profile is null when none matches.
    /// </summary>
    private async Task<(bool Answered, Profile? Profile)> MergeBlocksAndUncutAsync(ProfileEngine engine, TenantId tenant, ProfileQuery query, CancellationToken cancellationToken)
    {
        var (read, parts) = await engine.ReadAtCursorAsync<MergeParts?>(async (cursor, token) =>
        {
            var uncut = await engine.ListUncutAsync(cursor, tenant, query, _maxMergeProfiles, token).ConfigureAwait(false);
            return uncut is null ? null : new MergeParts(uncut, await EngineMergeAsync(engine, tenant, query, _maxMergeProfiles - uncut.Count, token).ConfigureAwait(false));
        }, cancellationToken).ConfigureAwait(false);
        if (!read || parts is not var (uncut, merged))
        {
            return (false, null);
        }

        if (uncut.Count == 0)
        {
            return (true, merged?.Profile);
        }

        try
        {
            // The uncut profiles' bytes never change once logged: they are read after the engine's part, outside it.
            var raw = await StoredProfileMerger.MergeAsync(_reader, tenant, uncut.ConvertAll(static m => m.ProfileId), null, MergeDecoderOptions(), cancellationToken).ConfigureAwait(false);
            return (true, ProfileMerger.Merge(merged?.Profile, raw.Profile));
        }
        catch (ProfileFormatException e)
        {
            Log.MergeFailed(_logger, ControlCharacters.Escape(query.Service), e);
            throw new ProfileRequestException(500, $"failed to merge profiles: {e.Message}", e);
        }
    }

    private async Task<Profile> MergeFromEngineAsync(ProfileEngine engine, TenantId tenant, ProfileQuery query, CancellationToken cancellationToken)
    {
        var merge = await EngineMergeAsync(engine, tenant, query, _maxMergeProfiles, cancellationToken).ConfigureAwait(false);
        return merge?.Profile ?? throw ProfileRequestException.NothingFound();
    }

    /// <exception cref="ProfileRequestException">500 for profiles that do not merge, 400 past <paramref name="maxRows"/> rows read one by one.</exception>
    private async Task<EngineMerge?> EngineMergeAsync(ProfileEngine engine, TenantId tenant, ProfileQuery query, int maxRows, CancellationToken cancellationToken)
    {
        try
        {
            return await engine.Querier.MergeAsync(tenant.Key, query, maxRows, cancellationToken).ConfigureAwait(false);
        }
        catch (ProfileFormatException e)
        {
            Log.MergeFailed(_logger, query.Service, e);
            throw new ProfileRequestException(500, $"failed to merge profiles: {e.Message}", e);
        }
        catch (EngineRowLimitException)
        {
            throw ProfileRequestException.BadRequest(
                $"merge reads more than {_maxMergeProfiles} profiles one by one (Collector:MaxMergeProfiles); widen the range to whole hours, narrow it, or set \"limit\"");
        }
    }

    // The engine's merge as of a cursor and the profiles logged after it that the query matches.
    private sealed record MergeParts(List<ProfileMeta> Uncut, EngineMerge? Merged);

    // The engine's time series as of a cursor and the profiles logged after it that the query matches.
    private sealed record SeriesParts(List<ProfileMeta> Uncut, EngineTimeSeries Series);

    // Profiles of one merge share function names and file names; one pool per merge decodes each once.
    private ProfileDecoderOptions MergeDecoderOptions() => _decoderOptions with { StringPool = new ProfileStringPool() };

    private void CheckMergeSize(int count)
    {
        if (count > _maxMergeProfiles)
        {
            throw ProfileRequestException.BadRequest(
                $"merge of {count} profiles exceeds the limit of {_maxMergeProfiles} (Collector:MaxMergeProfiles); narrow the time range or set \"limit\"");
        }
    }

    private static ProfileRequestException UnknownIds(List<ProfileId> ids, HashSet<ProfileId> found)
    {
        var unknown = new List<string>();
        for (var i = 0; i < ids.Count; i++)
        {
            if (!found.Contains(ids[i]))
            {
                unknown.Add(GoText.Quote(ids[i].ToString()));
            }
        }

        var noun = unknown.Count == 1 ? "id" : "ids";
        return new ProfileRequestException(404, $"nothing found: unknown profile {noun} {string.Join(", ", unknown)}");
    }

    private static string JoinIds(IReadOnlyList<ProfileId> ids)
    {
        var builder = new StringBuilder(ids.Count * (ProfileId.EncodedLength + 1));
        for (var i = 0; i < ids.Count; i++)
        {
            if (i > 0)
            {
                builder.Append('+');
            }

            builder.Append(ids[i]);
        }

        return builder.ToString();
    }
}
