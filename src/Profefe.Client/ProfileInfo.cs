using System.Text.Json.Serialization;

namespace Profefe.Client;

/// <summary>A stored profile's metadata as the collector reports it.</summary>
/// <param name="Id">The collector's 20-character id of the profile.</param>
/// <param name="Type">The profile type's wire name: <c>cpu</c>, <c>heap</c>, <c>mutex</c>, <c>other</c>, …</param>
/// <param name="Service">The service the profile belongs to.</param>
/// <param name="Labels">The profile's labels, sorted by key; empty when it has none.</param>
/// <param name="CreatedAt">When the profile was taken (UTC, whole seconds).</param>
public sealed record ProfileInfo(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("service")] string Service,
    [property: JsonPropertyName("labels")] IReadOnlyList<ProfileLabel>? Labels,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt);

/// <summary>A key=value label of a stored profile.</summary>
/// <param name="Key">The label's key.</param>
/// <param name="Value">The label's value.</param>
public readonly record struct ProfileLabel(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("value")] string Value);
