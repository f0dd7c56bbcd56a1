using System.Globalization;

namespace Profefe.FleetWeek;

/// <summary>
/// Which profile the fleet pushes when: push number i is minute i / pods of the week, pod i % pods, so pushes go
/// in time order as a live fleet's would; each pod cycles through the whole corpus, starting at a different file.
/// </summary>
internal sealed class FleetPlan
{
    /// <summary>A Monday, on a whole hour: every range the bench asks for covers whole rollup buckets.</summary>
    public static readonly DateTime Start = new(2026, 11, 2, 0, 0, 0, DateTimeKind.Utc);

    private const int PodStride = 7;

    public FleetPlan(FleetCorpus corpus, int days, int pods)
    {
        Corpus = corpus;
        Days = days;
        Pods = pods;
    }

    public FleetCorpus Corpus { get; }

    public int Days { get; }

    public int Pods { get; }

    public int Minutes => Days * 24 * 60;

    public int Count => Minutes * Pods;

    public static string PodName(int pod) => "p" + pod.ToString(CultureInfo.InvariantCulture);

    public static DateTime TimeOf(int minute) => Start.AddMinutes(minute);

    public CorpusProfile ProfileOf(int minute, int pod) =>
        Corpus.Profiles[(minute + (pod * PodStride)) % Corpus.Profiles.Count];

    /// <summary>What was pushed in minutes [first, first + count), of one pod or all: profiles and totals per sample type.</summary>
    public (int Profiles, long[] Totals) Expected(int firstMinute, int minutes, int? pod)
    {
        var totals = new long[Corpus.SampleTypes.Count];
        var profiles = 0;
        for (var minute = firstMinute; minute < firstMinute + minutes; minute++)
        {
            for (var p = pod ?? 0; p < (pod is null ? Pods : pod + 1); p++)
            {
                var pushed = ProfileOf(minute, p).Totals;
                for (var t = 0; t < totals.Length; t++)
                {
                    totals[t] += pushed[t];
                }

                profiles++;
            }
        }

        return (profiles, totals);
    }
}
