using System.Collections.Concurrent;
using System.Globalization;

namespace Profefe.Soak;

/// <summary>Answers by status (0 = no answer: timeout or connection failure) and their latencies, from many threads.</summary>
internal sealed class RequestTally
{
    private readonly ConcurrentDictionary<int, int> _statuses = new();
    private readonly ConcurrentBag<double> _milliseconds = [];

    public int Total => _statuses.Values.Sum();

    public int Count(Func<int, bool> which) => _statuses.Where(s => which(s.Key)).Sum(s => s.Value);

    public void Record(int status, TimeSpan elapsed)
    {
        _statuses.AddOrUpdate(status, 1, static (_, n) => n + 1);
        _milliseconds.Add(elapsed.TotalMilliseconds);
    }

    public double Percentile(double p)
    {
        var sorted = _milliseconds.ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        Array.Sort(sorted);
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)];
    }

    public string Statuses() =>
        string.Join(" ", _statuses.OrderBy(s => s.Key).Select(s => string.Create(CultureInfo.InvariantCulture, $"{(s.Key == 0 ? "none" : s.Key)}×{s.Value}")));
}
