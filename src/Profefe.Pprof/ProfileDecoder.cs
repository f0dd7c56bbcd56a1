namespace Profefe.Pprof;

/// <summary>Limits and switches for <see cref="ProfileDecoder"/>.</summary>
public sealed record ProfileDecoderOptions
{
    public static ProfileDecoderOptions Default { get; } = new();

    /// <summary>A gzip body that inflates past this many bytes is rejected (gzip bombs).</summary>
    public long MaxDecompressedBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Reject a profile with no samples, as profefe does.</summary>
    public bool RequireSamples { get; init; } = true;
}

/// <summary>
/// Reads pprof data: gzip-compressed or raw profile.proto, and the legacy formats Go's profile.Parse accepts.
/// The result is always valid for <c>go tool pprof</c> (ids renumbered where the input needed it).
/// </summary>
public static class ProfileDecoder
{
    /// <exception cref="ProfileFormatException">the data is not a profile this library accepts.</exception>
    public static Profile Decode(ReadOnlySpan<byte> data, ProfileDecoderOptions? options = null)
    {
        _ = data;
        _ = options;
        throw new NotImplementedException("ProfileDecoder.Decode is being written (issue 2).");
    }
}
