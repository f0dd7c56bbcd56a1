using System.Runtime.CompilerServices;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;

namespace Profefe.Core.Tests;

/// <summary>A store in a list, for testing the collector and querier without a database.</summary>
internal sealed class InMemoryProfileStore : IProfileReader, IProfileWriter
{
    private readonly List<StoredProfile> _profiles = [];

    public IReadOnlyList<StoredProfile> Profiles => _profiles;

    public Task WriteProfileAsync(ProfileMeta meta, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        // Copied: the collector may reuse its buffer once the write returned.
        _profiles.Add(new StoredProfile(meta, data.ToArray()));
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ProfileMeta>> FindProfilesAsync(TenantId tenant, ProfileQuery query, CancellationToken cancellationToken)
    {
        var found = _profiles.Select(p => p.Meta)
            .Where(m => m.Tenant == tenant && m.Service == query.Service && (query.Type is null || m.Type == query.Type)
                && m.CreatedAt >= query.From && m.CreatedAt <= query.To && query.Labels.All(m.Labels.Contains))
            .OrderBy(m => m.CreatedAt)
            .ToList();
        return Task.FromResult<IReadOnlyList<ProfileMeta>>(query.Limit > 0 ? found.Skip(Math.Max(0, found.Count - query.Limit)).ToList() : found);
    }

    public async IAsyncEnumerable<StoredProfile> ListProfilesAsync(TenantId tenant, IReadOnlyList<ProfileId> ids, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        foreach (var id in ids)
        {
            if (_profiles.Find(p => p.Meta.ProfileId == id && p.Meta.Tenant == tenant) is { } stored)
            {
                yield return stored;
            }
        }
    }

    public Task<IReadOnlyList<string>> ListServicesAsync(TenantId tenant, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>(_profiles.Where(p => p.Meta.Tenant == tenant).Select(p => p.Meta.Service).Distinct().Order(StringComparer.Ordinal).ToList());

    public Task<IReadOnlyList<LabelValues>> ListLabelsAsync(TenantId tenant, string? service, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<LabelValues>>([]);
}
