using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Core.Views;

namespace Profefe.Core.Limits;

/// <summary>
/// The sample layout (<see cref="Pprof.SampleLayout"/>) of each service's profiles of a type, per tenant, so that a
/// push whose layout differs is refused: merges refuse profiles whose sample or period types differ, and one fuzzed
/// push of a cpu profile with a mutated sample type name made every later merge of its service answer 500. The
/// first layout of a series in this process is that of its latest stored profile, or else of its first push.
/// Type other (Pyroscope's other series, and where a profile of its own kind goes) and traces are not held to one.
/// </summary>
public sealed class SampleLayoutTracker(IProfileReader reader) : IDisposable
{
    private static readonly DateTime Earliest = DateTime.UnixEpoch.AddTicks(long.MinValue / 100);
    private static readonly DateTime Latest = DateTime.UnixEpoch.AddTicks(long.MaxValue / 100);

    private readonly Dictionary<(TenantId Tenant, string Service, ProfileType Type), string> _layouts = [];
    private readonly SemaphoreSlim _seed = new(1, 1);

    /// <summary>Whether profiles of <paramref name="type"/> are held to one layout per service.</summary>
    public static bool Applies(ProfileType type) => type is not (ProfileType.Other or ProfileType.Trace or ProfileType.Unknown);

    /// <summary>Takes <paramref name="layout"/> for the series, or returns the different layout the series already has.</summary>
    /// <param name="maxDecompressedBytes">The inflate limit for reading the latest stored profile's layout.</param>
    public async Task<string?> TryAddAsync(TenantId tenant, string service, ProfileType type, string layout, long maxDecompressedBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (!Applies(type))
        {
            return null;
        }

        var key = (tenant, service, type);
        lock (_layouts)
        {
            if (_layouts.TryGetValue(key, out var known))
            {
                return known == layout ? null : known;
            }
        }

        // One series at a time reads the store, so concurrent first pushes of a series agree on its layout.
        await _seed.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_layouts)
            {
                if (_layouts.TryGetValue(key, out var known))
                {
                    return known == layout ? null : known;
                }
            }

            var stored = await StoredLayoutAsync(tenant, service, type, maxDecompressedBytes, cancellationToken).ConfigureAwait(false);
            lock (_layouts)
            {
                _layouts[key] = stored ?? layout;
            }

            return stored is null || stored == layout ? null : stored;
        }
        finally
        {
            _seed.Release();
        }
    }

    public void Dispose() => _seed.Dispose();

    private async Task<string?> StoredLayoutAsync(TenantId tenant, string service, ProfileType type, long maxDecompressedBytes, CancellationToken cancellationToken)
    {
        var latest = await reader.FindProfilesAsync(tenant, new ProfileQuery(service, type, [], Earliest, Latest, Limit: 1), cancellationToken).ConfigureAwait(false);
        if (latest.Count == 0)
        {
            return null;
        }

        await foreach (var profile in reader.ListProfilesAsync(tenant, [latest[0].ProfileId], cancellationToken).ConfigureAwait(false))
        {
            // A profile stored in a legacy format was re-encoded as profile.proto; one that cannot be read says nothing.
            if (ProfileTotals.TryRead(profile.Data, maxDecompressedBytes, out var totals))
            {
                return Pprof.SampleLayout.Describe(totals!.SampleTypes, totals.PeriodType);
            }
        }

        return null;
    }
}
