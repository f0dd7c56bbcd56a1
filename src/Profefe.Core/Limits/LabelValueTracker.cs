using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;

namespace Profefe.Core.Limits;

/// <summary>
/// The distinct values each label key has per tenant, to refuse a push that would give a key more than
/// Collector:MaxLabelValuesPerKey. Learns a tenant's stored values from the store on its first push, then follows
/// the pushes of this process; values that retention deletes still count until the process restarts. Tenants do
/// not share counts: one tenant's values neither crowd out nor reveal another's.
/// </summary>
public sealed class LabelValueTracker(IProfileReader reader) : IDisposable
{
    private readonly Dictionary<(TenantId Tenant, string Key), HashSet<string>> _values = [];
    private readonly HashSet<TenantId> _seeded = [];
    private readonly SemaphoreSlim _seed = new(1, 1);

    /// <summary>Adds the values of <paramref name="labels"/>, or adds none and names the first key that would pass <paramref name="maxValuesPerKey"/>.</summary>
    /// <returns>The key over the limit, or null when the labels were taken.</returns>
    public async Task<string?> TryAddAsync(TenantId tenant, IReadOnlyList<Label> labels, int maxValuesPerKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count == 0)
        {
            return null;
        }

        await SeedAsync(tenant, cancellationToken).ConfigureAwait(false);
        lock (_values)
        {
            for (var i = 0; i < labels.Count; i++)
            {
                if (_values.TryGetValue((tenant, labels[i].Key), out var known) && known.Count >= maxValuesPerKey && !known.Contains(labels[i].Value))
                {
                    return labels[i].Key;
                }
            }

            for (var i = 0; i < labels.Count; i++)
            {
                ValuesOf(tenant, labels[i].Key).Add(labels[i].Value);
            }
        }

        return null;
    }

    private async Task SeedAsync(TenantId tenant, CancellationToken cancellationToken)
    {
        lock (_values)
        {
            if (_seeded.Contains(tenant))
            {
                return;
            }
        }

        await _seed.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_values)
            {
                if (_seeded.Contains(tenant))
                {
                    return;
                }
            }

            var stored = await reader.ListLabelsAsync(tenant, null, cancellationToken).ConfigureAwait(false);
            lock (_values)
            {
                foreach (var key in stored)
                {
                    ValuesOf(tenant, key.Key).UnionWith(key.Values);
                }

                _seeded.Add(tenant);
            }
        }
        finally
        {
            _seed.Release();
        }
    }

    public void Dispose() => _seed.Dispose();

    // Callers hold the lock on _values.
    private HashSet<string> ValuesOf(TenantId tenant, string key)
    {
        if (!_values.TryGetValue((tenant, key), out var known))
        {
            known = new HashSet<string>(StringComparer.Ordinal);
            _values.Add((tenant, key), known);
        }

        return known;
    }
}
