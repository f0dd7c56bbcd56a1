using Profefe.Core.Profiles;
using Profefe.Pprof;

namespace Profefe.Core.Engine;

/// <summary>
/// Hands the profiles the collector decoded while checking pushes to the block cutter, so that a push is inflated
/// and decoded once, not again when the cutter reads it back from the write log. Only saves work: the cutter still
/// cuts from the durable log and decodes the stored bytes of any profile it does not find here (after a restart,
/// or when the handoff was full). Bounded by <see cref="CapacityBytes"/>; an offer that does not fit is dropped.
/// Closed while the cutter leaves a burst in the log: profiles it would take only after the burst cannot be held
/// in memory that long, and the collector then only checks pushes, which costs less than decoding them.
/// </summary>
public sealed class DecodedProfileHandoff
{
    // Offers left behind (a profile retention deleted before the cutter read it, a cut that failed after taking
    // them) are dropped once the cutter has taken profiles that arrived this much later.
    private static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(1);

    private readonly Dictionary<ProfileId, (Profile Profile, long Bytes)> _profiles = [];
    private readonly Lock _sync = new();
    private long _bytes;
    private volatile bool _closed;

    /// <param name="capacityBytes">The decoded profiles' memory it may hold at once (as the decoder allocated it); 0 holds none.</param>
    public DecodedProfileHandoff(long capacityBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacityBytes);
        CapacityBytes = capacityBytes;
    }

    public long CapacityBytes { get; }

    /// <summary>Names shared by the collector's and the cutter's decoding, so a program's names are allocated once for both.</summary>
    public ProfileStringPool StringPool { get; } = new(maxCount: 1 << 16);

    /// <summary>Whether an offer could fit now; the collector only decodes for the handoff when it could.</summary>
    public bool HasRoom => !_closed && Volatile.Read(ref _bytes) < CapacityBytes;

    /// <summary>
    /// Opens or closes the handoff to new offers. Closing drops what it holds: the cutter would take those only after
    /// the burst, and holding them that long costs memory and the collections that promote them, not a decode saved.
    /// </summary>
    public void Accept(bool open)
    {
        if (open == !_closed)
        {
            return;
        }

        lock (_sync)
        {
            _closed = !open;
            if (!open)
            {
                _profiles.Clear();
                _bytes = 0;
            }
        }
    }

    public long Bytes => Volatile.Read(ref _bytes);

    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _profiles.Count;
            }
        }
    }

    /// <summary>
    /// Offers the decoded form of the profile stored (or being stored) as <paramref name="id"/>; it must be what
    /// decoding the stored bytes gives. False when it does not fit (nothing is kept).
    /// </summary>
    public bool TryOffer(ProfileId id, Profile profile, long bytes)
    {
        ArgumentNullException.ThrowIfNull(profile);
        lock (_sync)
        {
            if (_closed || CapacityBytes == 0 || _bytes + bytes > CapacityBytes || !_profiles.TryAdd(id, (profile, bytes)))
            {
                return false;
            }

            _bytes += bytes;
            return true;
        }
    }

    /// <summary>Takes back an offer whose profile was not stored after all.</summary>
    public void Withdraw(ProfileId id) => TryTake(id);

    /// <summary>The decoded profile offered for <paramref name="id"/>, removed from the handoff; null when there is none.</summary>
    public Profile? TryTake(ProfileId id)
    {
        lock (_sync)
        {
            if (!_profiles.Remove(id, out var offered))
            {
                return null;
            }

            _bytes -= offered.Bytes;
            return offered.Profile;
        }
    }

    /// <summary>Drops offers of profiles that arrived well before <paramref name="newestTaken"/>, which the cutter has passed.</summary>
    public void DropPassed(ProfileId newestTaken)
    {
        var cutoff = newestTaken.Timestamp - StaleAfter;
        lock (_sync)
        {
            if (_profiles.Count == 0)
            {
                return;
            }

            List<ProfileId>? stale = null;
            foreach (var (id, _) in _profiles)
            {
                if (id.Timestamp < cutoff)
                {
                    (stale ??= []).Add(id);
                }
            }

            if (stale is null)
            {
                return;
            }

            foreach (var id in stale)
            {
                _profiles.Remove(id, out var offered);
                _bytes -= offered.Bytes;
            }
        }
    }
}
