using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Profefe.Core.Ingest;

namespace Profefe.Server.Pyroscope.Ingest;

/// <summary>
/// The pprof uploads of Pyroscope's SDKs: a raw body (<c>format=pprof</c>, the Node SDK) or multipart/form-data
/// with a <c>profile</c> part and an optional <c>sample_type_config</c> part (Go, Python, Ruby, Rust, .NET).
/// </summary>
internal sealed record PprofUpload(ReadOnlyMemory<byte> Profile, IReadOnlyDictionary<string, SampleTypeConfig> SampleTypeConfig)
{
    public static PprofUpload FromRaw(ReadOnlyMemory<byte> body) => new(body, new Dictionary<string, SampleTypeConfig>());

    /// <exception cref="ProfileRequestException">422 when the form is malformed or has no profile part.</exception>
    public static async Task<PprofUpload> FromFormAsync(string contentType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } boundary)
        {
            throw Unprocessable("multipart/form-data without a boundary");
        }

        ReadOnlyMemory<byte>? profile = null;
        var config = new Dictionary<string, SampleTypeConfig>();
        try
        {
            var reader = new MultipartReader(boundary, new MemoryStream(body.ToArray(), writable: false));
            while (await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false) is { } section)
            {
                var name = section.GetContentDispositionHeader()?.Name.Value?.Trim('"');
                using var content = new MemoryStream();
                await section.Body.CopyToAsync(content, cancellationToken).ConfigureAwait(false);
                switch (name)
                {
                    case "profile":
                        profile = content.ToArray();
                        break;
                    case "prev_profile":
                        throw Unprocessable("cumulative uploads (a prev_profile part) are not supported: update the SDK, which then sends deltas");
                    case "sample_type_config":
                        config = ParseConfig(content.ToArray());
                        break;
                    case "jfr":
                        throw Unprocessable("JFR uploads are not supported by this collector yet");
                    default:
                        break;
                }
            }
        }
        catch (IOException e)
        {
            throw Unprocessable($"malformed multipart/form-data: {e.Message}");
        }
        catch (InvalidDataException e)
        {
            throw Unprocessable($"malformed multipart/form-data: {e.Message}");
        }

        return profile is { } bytes
            ? new PprofUpload(bytes, config)
            : throw Unprocessable("multipart/form-data without a \"profile\" part");
    }

    private static Dictionary<string, SampleTypeConfig> ParseConfig(byte[] json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, PyroscopeJsonContext.Default.DictionaryStringSampleTypeConfig) ?? [];
        }
        catch (JsonException e)
        {
            throw Unprocessable($"malformed \"sample_type_config\": {e.Message}");
        }
    }

    private static ProfileRequestException Unprocessable(string message) => new(422, message);
}

/// <summary>One entry of an SDK's sample_type_config: how to show a sample type.</summary>
internal sealed record SampleTypeConfig(
    [property: System.Text.Json.Serialization.JsonPropertyName("units")] string? Units,
    [property: System.Text.Json.Serialization.JsonPropertyName("aggregation")] string? Aggregation,
    [property: System.Text.Json.Serialization.JsonPropertyName("display-name")] string? DisplayName,
    [property: System.Text.Json.Serialization.JsonPropertyName("sampled")] bool Sampled,
    [property: System.Text.Json.Serialization.JsonPropertyName("cumulative")] bool Cumulative);
