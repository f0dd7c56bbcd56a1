using Profefe.Core.Engine.Blocks;

namespace Profefe.Core.Engine;

/// <summary>
/// Keeps each series' day rollups equal to the fold of its hour rollups of that day. Rows that come after
/// everything a day rollup holds are folded into it directly (the common case: profiles arrive in time order);
/// otherwise the day is folded again from its hours.
/// </summary>
public static class DayRollups
{
    /// <summary>
    /// The day rollups to write beside <paramref name="hours"/>, the hour rollups a commit writes for
    /// <paramref name="rows"/>; <paramref name="stored"/> holds the stored day rollups of the rows' series and days,
    /// <paramref name="fresh"/> the series the commit adds (nothing of theirs is stored yet).
    /// </summary>
    public static async Task<List<StoredRollup>> UpdateAsync(
        IProfileEngineStore store, IReadOnlyList<StoredRollup> hours, IReadOnlyList<(EngineSeries Series, ProfileRow Row)> rows,
        IReadOnlyDictionary<(int Series, long Bucket), StoredRollup> stored, IReadOnlySet<int> fresh, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fresh);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(hours);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(stored);
        var byDay = new SortedDictionary<(int Series, long Day), List<ProfileRow>>();
        foreach (var (series, row) in rows)
        {
            var key = (series.Id, EngineCatalog.DayOf(row.CreatedAt.Ticks));
            if (!byDay.TryGetValue(key, out var list))
            {
                list = [];
                byDay[key] = list;
            }

            list.Add(row);
        }

        var days = new List<StoredRollup>(byDay.Count);
        foreach (var ((series, day), dayRows) in byDay)
        {
            var existing = stored.GetValueOrDefault((series, day));
            if (existing is not null && dayRows[0].CreatedAt.Ticks >= existing.LastKey)
            {
                var aggregate = RollupCodec.Read(existing.Data);
                foreach (var row in dayRows)
                {
                    if (row.Header.Layout == aggregate.Layout)
                    {
                        aggregate.Add(row);
                    }
                }

                days.Add(ToDay(series, day, aggregate, dayRows[^1].CreatedAt.Ticks));
            }
            else if (await FoldAsync(store, series, day, hours, readStored: !fresh.Contains(series), cancellationToken).ConfigureAwait(false) is { } folded)
            {
                days.Add(folded);
            }
        }

        return days;
    }

    /// <summary>
    /// The day rollup folded from the day's hour rollups (<paramref name="newer"/> ones win over stored ones, which are
    /// read unless <paramref name="readStored"/> is false); null when the day has none.
    /// </summary>
    public static async Task<StoredRollup?> FoldAsync(IProfileEngineStore store, int series, long day, IReadOnlyList<StoredRollup> newer, bool readStored, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(newer);
        var hours = new SortedDictionary<long, StoredRollup>();
        var stored = readStored
            ? await store.ReadRollupsAsync([series], EngineCatalog.BucketTicks, day, day + EngineCatalog.DayTicks - 1, withData: true, cancellationToken).ConfigureAwait(false)
            : [];
        foreach (var hour in stored)
        {
            hours[hour.Bucket] = hour;
        }

        foreach (var hour in newer)
        {
            if (hour.Series == series && hour.Span == EngineCatalog.BucketTicks && EngineCatalog.DayOf(hour.Bucket) == day)
            {
                hours[hour.Bucket] = hour;
            }
        }

        ProfileAggregate? aggregate = null;
        var lastKey = 0L;
        foreach (var hour in hours.Values)
        {
            var part = RollupCodec.Read(hour.Data);
            if (aggregate is null)
            {
                aggregate = part;
            }
            else if (part.Layout == aggregate.Layout)
            {
                aggregate.Add(part);
            }

            lastKey = Math.Max(lastKey, hour.LastKey);
        }

        return aggregate is null ? null : ToDay(series, day, aggregate, lastKey);
    }

    private static StoredRollup ToDay(int series, long day, ProfileAggregate aggregate, long lastKey) =>
        new(series, EngineCatalog.DayTicks, day, aggregate.Count, aggregate.Totals, lastKey, RollupCodec.Write(aggregate));
}
