namespace Profefe.Core.Engine;

/// <summary>
/// The reads behind one time series over steps, made at once (<see cref="IProfileEngineStore.ReadTotalsAsync"/>):
/// the hour rollups' totals of <see cref="Series"/> for buckets [<see cref="FirstBucket"/>, <see cref="LastBucket"/>]
/// (none when first &gt; last), their per-profile entries in each of <see cref="Ranges"/> (inclusive ticks), and
/// those in the windows [start, start + <see cref="WindowWidth"/> - 1] of <see cref="WindowStarts"/> (ascending,
/// not overlapping; Pyroscope's step boundaries).
/// </summary>
public sealed record EngineTotalsQuery(
    IReadOnlyList<int> Series, long FirstBucket, long LastBucket, IReadOnlyList<(long First, long Last)> Ranges, IReadOnlyList<long> WindowStarts, long WindowWidth);

/// <summary>
/// What an <see cref="EngineTotalsQuery"/> read: the rollups (without data) ascending by bucket then series, the
/// entries of each range in the order of the ranges, and the entries in the windows, entries ascending by time then id.
/// </summary>
public sealed record EngineTotalsData(
    IReadOnlyList<StoredRollup> Rollups, IReadOnlyList<IReadOnlyList<EngineProfileEntry>> RangeEntries, IReadOnlyList<EngineProfileEntry> WindowEntries);
