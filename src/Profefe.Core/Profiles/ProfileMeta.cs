using Profefe.Core.Tenancy;

namespace Profefe.Core.Profiles;

/// <summary>What the store knows about a profile besides its bytes.</summary>
/// <param name="Labels">Sorted by key (stable for equal keys), as profefe sorts them.</param>
/// <param name="CreatedAt">UTC, full precision; the wire format truncates it to seconds.</param>
/// <param name="Tenant">Whose profile it is; only that tenant's reads see it.</param>
public sealed record ProfileMeta(
    ProfileId ProfileId,
    ProfileType Type,
    string Service,
    IReadOnlyList<Label> Labels,
    DateTime CreatedAt,
    TenantId Tenant = default)
{
    /// <summary>
    /// When the collector stored the profile, which retention goes by: profefe's Badger TTL counts from the write,
    /// so an agent pushing profiles taken long ago does not see them vanish at once. The id carries the arrival in
    /// whole seconds; a CreatedAt inside that same second is the collector's own stamp (agents that send no time get
    /// "now"), so it gives the sub-second part. An agent's own, older time does not.
    /// </summary>
    public DateTime StoredAt
    {
        get
        {
            var arrival = ProfileId.Timestamp;
            return CreatedAt >= arrival && CreatedAt < arrival.AddSeconds(1) ? CreatedAt : arrival;
        }
    }
}
