using Profefe.Core.Profiles;
using Profefe.Core.Tenancy;

namespace Profefe.Core.Storage;

/// <summary>Where a profile's bytes are kept: its tenant first, then its id.</summary>
public readonly record struct ProfileKey(TenantId Tenant, ProfileId Id);
