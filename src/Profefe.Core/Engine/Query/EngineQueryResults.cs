using Profefe.Pprof;

namespace Profefe.Core.Engine.Query;

/// <summary>The sample types (and period type) every profile of a series has.</summary>
public sealed record EngineLayout(List<SampleType> SampleTypes, SampleType? PeriodType);

/// <summary>A merge's result and what it cost.</summary>
public sealed record EngineMerge(Profile Profile, int Profiles, int RowsRead);

/// <summary>A time series: per group, totals per step for each sample type.</summary>
public sealed record EngineTimeSeries(IReadOnlyList<string> SampleTypes, IReadOnlyList<EngineSeriesPoints> Groups);

/// <summary>One group's points: <see cref="Totals"/> is step-major (step i's sample types at [i * Width, (i + 1) * Width)).</summary>
public sealed record EngineSeriesPoints(string Group, long[] Totals, long[] Counts, int Width)
{
    public void Add(int step, long[] totals, int count)
    {
        ArgumentNullException.ThrowIfNull(totals);
        if (step < 0 || step >= Counts.Length)
        {
            return;
        }

        Counts[step] += count;
        for (var t = 0; t < Math.Min(Width, totals.Length); t++)
        {
            Totals[(step * Width) + t] += totals[t];
        }
    }
}

/// <summary>A merge would read more single rows than the merge limit allows.</summary>
public sealed class EngineRowLimitException(int limit)
    : Exception($"the merge reads more than {limit} profiles one by one")
{
    public int Limit { get; } = limit;
}
