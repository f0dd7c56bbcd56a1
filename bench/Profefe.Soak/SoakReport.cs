using System.Globalization;

namespace Profefe.Soak;

/// <summary>The soak's verdict: health throughout, the good clients' success and p99, memory, acknowledged profiles intact.</summary>
internal sealed record SoakReport(
    RequestTally Health, GoodClients Good, List<(string Name, RequestTally Tally, string Note)> Attacks,
    int Intact, int Missing, int Different, long CgroupPeakBytes, long PeakRssBytes, long OomKills, bool InCgroup)
{
    public bool Passed =>
        InCgroup && Health.Count(s => s != 200) == 0 && Missing == 0 && Different == 0 && OomKills == 0
        && Attacks.All(a => a.Tally.Count(s => s >= 500) == 0) && Good.Pushes.Count(s => s == 200) > 0;

    public void Print(SoakOptions options)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine(string.Create(c, $"## Soak: {options.Duration.TotalMinutes:0.#} min of attacks, collector limited to {options.MemoryLimitBytes >> 20} MiB"));
        Console.WriteLine();
        Console.WriteLine("| what | result |");
        Console.WriteLine("|---|---|");
        Console.WriteLine(string.Create(c, $"| /health (every 250 ms, 5 s timeout) | {Health.Count(s => s == 200)} of {Health.Total} answered 200; p99 {Health.Percentile(99):0} ms, max {Health.Percentile(100):0} ms |"));
        Row("good pushes (4 clients, profefe API)", Good.Pushes);
        Row("good queries (2 clients: find, merge by ids, UI services)", Good.Queries);
        Console.WriteLine(string.Create(c, $"| acknowledged good profiles read back | {Intact} byte-identical, {Missing} missing, {Different} different |"));
        Console.WriteLine(string.Create(c, $"| collector peak memory | cgroup peak {CgroupPeakBytes / (1 << 20)} MiB (page cache included), process peak RSS {PeakRssBytes / (1 << 20)} MiB; OOM kills {OomKills} |"));
        Console.WriteLine();
        Console.WriteLine("| attack | attacker's answers (status×count; none = no answer) | 5xx | note |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var (name, tally, note) in Attacks)
        {
            Console.WriteLine(string.Create(c, $"| {name} | {tally.Statuses()} | {tally.Count(s => s >= 500)} | {note} |"));
        }

        Console.WriteLine();
        Console.WriteLine(Passed ? "PASSED" : "FAILED");

        void Row(string what, RequestTally tally) =>
            Console.WriteLine(string.Create(c,
                $"| {what} | {tally.Count(s => s == 200)} of {tally.Total} answered 200 ({100.0 * tally.Count(s => s == 200) / Math.Max(1, tally.Total):0.0}%; {tally.Statuses()}); p50 {tally.Percentile(50):0} ms, p99 {tally.Percentile(99):0} ms |"));
    }
}
