using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;

namespace Profefe.Core.Engine;

/// <summary>
/// The durable write log the engine cuts its blocks from: every acknowledged profile, in the order it was
/// stored, at a position that only grows. The embedded store's index is one.
/// </summary>
public interface IProfileLog
{
    /// <summary>Up to <paramref name="max"/> profiles stored after <paramref name="position"/>, in order.</summary>
    Task<IReadOnlyList<LoggedProfile>> ReadAfterAsync(long position, int max, CancellationToken cancellationToken);

    /// <summary>
    /// The metadata (no bytes) of <paramref name="tenant"/>'s profiles of <paramref name="service"/> stored after
    /// <paramref name="position"/>, in log order, at most <paramref name="max"/>: past the engine's cursor, the ones it
    /// has not cut yet.
    /// </summary>
    Task<IReadOnlyList<ProfileMeta>> ListAfterAsync(long position, TenantId tenant, string service, int max, CancellationToken cancellationToken);

    /// <summary>The position of the newest stored profile (0 when none).</summary>
    Task<long> HeadAsync(CancellationToken cancellationToken);

    /// <summary>How many profiles are stored after <paramref name="position"/>, counted up to <paramref name="limit"/>.</summary>
    Task<long> CountAfterAsync(long position, long limit, CancellationToken cancellationToken);
}

public sealed record LoggedProfile(long Position, StoredProfile Profile);
