namespace Profefe.Client;

/// <summary>Selects stored profiles of one service in a time range, for find and merge requests.</summary>
public sealed record ProfileFilter
{
    /// <summary>The service the profiles belong to (required).</summary>
    public required string Service { get; init; }

    /// <summary>The profile type's wire name (<c>cpu</c>, <c>heap</c>, …); null finds every type (merge requires it).</summary>
    public string? Type { get; init; }

    /// <summary>Start of the time range, inclusive.</summary>
    public required DateTimeOffset From { get; init; }

    /// <summary>End of the time range, inclusive.</summary>
    public required DateTimeOffset To { get; init; }

    /// <summary>Labels every selected profile must carry.</summary>
    public IReadOnlyList<ProfileLabel> Labels { get; init; } = [];

    /// <summary>Keep only the most recent N profiles; null or 0 keeps all.</summary>
    public int? Limit { get; init; }
}
