using Profefe.Core.Profiles;
using Profefe.Core.Tenancy;

namespace Profefe.Core.Storage;

/// <summary>The read half of the storage seam (profefe's storage.Reader).</summary>
public interface IProfileReader
{
    /// <summary>The tenant's metas matching <paramref name="query"/>, ascending by CreatedAt; empty when nothing matches.</summary>
    Task<IReadOnlyList<ProfileMeta>> FindProfilesAsync(TenantId tenant, ProfileQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// The tenant's stored profiles for <paramref name="ids"/>, in the order asked; unknown ids and other tenants'
    /// ids are left out alike.
    /// </summary>
    IAsyncEnumerable<StoredProfile> ListProfilesAsync(TenantId tenant, IReadOnlyList<ProfileId> ids, CancellationToken cancellationToken);

    /// <summary>Every service of the tenant with at least one stored profile, sorted ordinally.</summary>
    Task<IReadOnlyList<string>> ListServicesAsync(TenantId tenant, CancellationToken cancellationToken);

    /// <summary>Label keys and their values seen on the tenant's <paramref name="service"/>'s profiles (all its services when null).</summary>
    Task<IReadOnlyList<LabelValues>> ListLabelsAsync(TenantId tenant, string? service, CancellationToken cancellationToken);
}

/// <summary>A profile's meta and its bytes exactly as they were written.</summary>
public sealed record StoredProfile(ProfileMeta Meta, ReadOnlyMemory<byte> Data);

/// <summary>One label key and its distinct values, sorted.</summary>
public sealed record LabelValues(string Key, IReadOnlyList<string> Values);
