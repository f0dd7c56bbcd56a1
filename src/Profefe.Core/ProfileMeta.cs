namespace Profefe.Core;

/// <summary>What the store knows about a profile besides its bytes.</summary>
/// <param name="Labels">Sorted by key (stable for equal keys), as profefe sorts them.</param>
/// <param name="CreatedAt">UTC, full precision; the wire format truncates it to seconds.</param>
public sealed record ProfileMeta(
    ProfileId ProfileId,
    ProfileType Type,
    string Service,
    IReadOnlyList<Label> Labels,
    DateTime CreatedAt);
