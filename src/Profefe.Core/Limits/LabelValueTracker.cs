using Profefe.Core.Profiles;
using Profefe.Core.Storage;

namespace Profefe.Core.Limits;

/// <summary>
/// The distinct values each label key has, to refuse a push that would give a key more than
/// Collector:MaxLabelValuesPerKey. Learns the stored values from the store on first use, then follows the pushes
/// of this process; values that retention deletes still count until the process restarts.
/// </summary>
public sealed class LabelValueTracker(IProfileReader reader) : IDisposable
{
    private readonly Dictionary<string, HashSet<string>> _values = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _seed = new(1, 1);
    private volatile bool _seeded;

    /// <summary>Adds the values of <paramref name="labels"/>, or adds none and names the first key that would pass <paramref name="maxValuesPerKey"/>.</summary>
    /// <returns>The key over the limit, or null when the labels were taken.</returns>
    public async Task<string?> TryAddAsync(IReadOnlyList<Label> labels, int maxValuesPerKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count == 0)
        {
            return null;
        }

        await SeedAsync(cancellationToken).ConfigureAwait(false);
        lock (_values)
        {
            for (var i = 0; i < labels.Count; i++)
            {
                if (_values.TryGetValue(labels[i].Key, out var known) && known.Count >= maxValuesPerKey && !known.Contains(labels[i].Value))
                {
                    return labels[i].Key;
                }
            }

            for (var i = 0; i < labels.Count; i++)
            {
                ValuesOf(labels[i].Key).Add(labels[i].Value);
            }
        }

        return null;
    }

    private async Task SeedAsync(CancellationToken cancellationToken)
    {
        if (_seeded)
        {
            return;
        }

        await _seed.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_seeded)
            {
                return;
            }

            var stored = await reader.ListLabelsAsync(null, cancellationToken).ConfigureAwait(false);
            lock (_values)
            {
                foreach (var key in stored)
                {
                    ValuesOf(key.Key).UnionWith(key.Values);
                }
            }

            _seeded = true;
        }
        finally
        {
            _seed.Release();
        }
    }

    public void Dispose() => _seed.Dispose();

    // Callers hold the lock on _values.
    private HashSet<string> ValuesOf(string key)
    {
        if (!_values.TryGetValue(key, out var known))
        {
            known = new HashSet<string>(StringComparer.Ordinal);
            _values.Add(key, known);
        }

        return known;
    }
}
