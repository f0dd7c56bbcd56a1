using Profefe.Core.Profiles;

namespace Profefe.Core.Storage;

/// <summary>
/// A find (profefe's FindProfilesParams): one service, optionally one type, every label given must match,
/// CreatedAt within [From, To] inclusive. Limit &gt; 0 keeps the Limit most recent matches.
/// </summary>
public sealed record ProfileQuery(
    string Service,
    ProfileType? Type,
    IReadOnlyList<Label> Labels,
    DateTime From,
    DateTime To,
    int Limit = 0);
