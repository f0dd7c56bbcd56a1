using System.Text.Json.Serialization;

namespace Profefe.Client;

/// <summary>The collector's success envelope: <c>{"code":200,"body":…}</c>.</summary>
internal sealed record ApiReply<T>(
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("body")] T? Body);

/// <summary>The collector's error envelope: <c>{"code":400,"error":"…"}</c>.</summary>
internal sealed record ApiError(
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("error")] string? Error);

[JsonSerializable(typeof(ApiReply<ProfileInfo>))]
[JsonSerializable(typeof(ApiReply<List<ProfileInfo>>))]
[JsonSerializable(typeof(ApiReply<List<string>>))]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(List<ProfileInfo>))]
internal sealed partial class ProfefeJsonContext : JsonSerializerContext;
