using Profefe.Core.Profiles;

namespace Profefe.Core.Storage;

/// <summary>The read half of the storage seam (profefe's storage.Reader).</summary>
public interface IProfileReader
{
    /// <summary>Metas matching <paramref name="query"/>, ascending by CreatedAt; empty when nothing matches.</summary>
    Task<IReadOnlyList<ProfileMeta>> FindProfilesAsync(ProfileQuery query, CancellationToken cancellationToken);

    /// <summary>The stored profiles for <paramref name="ids"/>, in the order asked; unknown ids are left out.</summary>
    IAsyncEnumerable<StoredProfile> ListProfilesAsync(IReadOnlyList<ProfileId> ids, CancellationToken cancellationToken);

    /// <summary>Every service with at least one stored profile, sorted ordinally.</summary>
    Task<IReadOnlyList<string>> ListServicesAsync(CancellationToken cancellationToken);

    /// <summary>Label keys and their values seen on <paramref name="service"/>'s profiles (all services when null).</summary>
    Task<IReadOnlyList<LabelValues>> ListLabelsAsync(string? service, CancellationToken cancellationToken);
}

/// <summary>A profile's meta and its bytes exactly as they were written.</summary>
public sealed record StoredProfile(ProfileMeta Meta, ReadOnlyMemory<byte> Data);

/// <summary>One label key and its distinct values, sorted.</summary>
public sealed record LabelValues(string Key, IReadOnlyList<string> Values);
