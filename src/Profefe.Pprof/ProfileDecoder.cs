using Profefe.Pprof.Legacy;
using Profefe.Pprof.Proto;

namespace Profefe.Pprof;

/// <summary>Limits and switches for <see cref="ProfileDecoder"/>.</summary>
public sealed record ProfileDecoderOptions
{
    public static ProfileDecoderOptions Default { get; } = new();

    /// <summary>A gzip body that inflates past this many bytes is rejected (gzip bombs).</summary>
    public long MaxDecompressedBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// <see cref="ProfileDecoder.Validate"/> rejects a profile with more samples than this, before building
    /// anything: a small gzip can hold millions of samples, and every later view of them costs seconds and gigabytes.
    /// </summary>
    public int MaxSamples { get; init; } = int.MaxValue;

    /// <summary><see cref="ProfileDecoder.Validate"/> rejects a profile with a sample of more locations than this.</summary>
    public int MaxStackDepth { get; init; } = int.MaxValue;

    /// <summary>Reject a profile with no samples, as profefe does.</summary>
    public bool RequireSamples { get; init; } = true;

    /// <summary>
    /// The inflated bytes every decoder sharing it may hold at once; past it a gzip body is refused with
    /// <see cref="ProfileFormatException.ExceededLimit"/> "InflateBudget" (retry later). Null: no shared budget.
    /// </summary>
    public InflateBudget? InflateBudget { get; init; }

    /// <summary>Shares strings between the profiles decoded with these options (for example the inputs of a merge); null allocates every string.</summary>
    public ProfileStringPool? StringPool { get; init; }
}

/// <summary>What <see cref="ProfileDecoder.Validate"/> learned about data it accepted.</summary>
/// <param name="TimeNanos">The profile's time_nanos (0 when it has none).</param>
/// <param name="Normalized">
/// Null when the data can be kept as it is; otherwise the decoded profile, whose encoding is what Go's
/// pprof can read (the data had ids needing renumbering or was in a legacy format).
/// </param>
/// <param name="SampleCount">How many samples the profile has.</param>
/// <param name="SampleTypes">The type names of its sample types, in order ("samples", "cpu"; "alloc_objects", …).</param>
public readonly record struct ProfileValidation(long TimeNanos, Profile? Normalized, int SampleCount, IReadOnlyList<string> SampleTypes)
{
    /// <summary>Its sample and period types as <see cref="SampleLayout.Describe"/> writes them: profiles with equal layouts merge.</summary>
    public string Layout { get; init; } = "";
}

/// <summary>
/// Reads pprof data: gzip-compressed or raw profile.proto, and the legacy formats Go's profile.Parse accepts.
/// The result is always valid for <c>go tool pprof</c> (ids renumbered where the input needed it).
/// </summary>
public static class ProfileDecoder
{
    /// <exception cref="ProfileFormatException">the data is not a profile this library accepts.</exception>
    public static Profile Decode(ReadOnlySpan<byte> data, ProfileDecoderOptions? options = null) =>
        Decode(data, options, out _);

    /// <param name="idsRenumbered">
    /// True when the input had mapping, function or location ids that go tool pprof rejects (0 or repeated)
    /// and the result was renumbered: the input bytes themselves are then not valid for Go's pprof, the
    /// re-encoded result is.
    /// </param>
    /// <exception cref="ProfileFormatException">the data is not a profile this library accepts.</exception>
    public static Profile Decode(ReadOnlySpan<byte> data, ProfileDecoderOptions? options, out bool idsRenumbered) =>
        Decode(data, options, out idsRenumbered, out _);

    /// <param name="idsRenumbered">As in <see cref="Decode(ReadOnlySpan{byte}, ProfileDecoderOptions?, out bool)"/>.</param>
    /// <param name="fromLegacyFormat">True when the input was one of the legacy (pre-proto) formats and was converted.</param>
    /// <exception cref="ProfileFormatException">the data is not a profile this library accepts.</exception>
    public static Profile Decode(ReadOnlySpan<byte> data, ProfileDecoderOptions? options, out bool idsRenumbered, out bool fromLegacyFormat)
    {
        options ??= ProfileDecoderOptions.Default;
        if (data.IsEmpty)
        {
            throw new ProfileFormatException("parsing profile: empty input file");
        }

        if (!GzipInflater.IsGzip(data))
        {
            return DecodeUncompressed(data, options, out idsRenumbered, out fromLegacyFormat);
        }

        var buffer = GzipInflater.Inflate(data, options.MaxDecompressedBytes, options.InflateBudget, out var length);
        try
        {
            return DecodeUncompressed(buffer.AsSpan(0, length), options, out idsRenumbered, out fromLegacyFormat);
        }
        finally
        {
            GzipInflater.Return(buffer, options.InflateBudget);
        }
    }

    /// <summary>
    /// Accepts and rejects exactly what <see cref="Decode(ReadOnlySpan{byte}, ProfileDecoderOptions?, out bool, out bool)"/>
    /// does, with the same messages, but builds the model only when it must: for data that needs
    /// rewriting (ids renumbered, a legacy format) or that it rejects. A collector checking pushed
    /// profiles, most of them well-formed profile.proto, then pays for one walk over the bytes.
    /// </summary>
    /// <exception cref="ProfileFormatException">the data is not a profile this library accepts.</exception>
    public static ProfileValidation Validate(ReadOnlySpan<byte> data, ProfileDecoderOptions? options = null)
    {
        options ??= ProfileDecoderOptions.Default;
        if (!GzipInflater.IsGzip(data))
        {
            return ProfileProtoScanner.TryScan(data, options, out var raw) ? raw : FullValidation(data, options);
        }

        var buffer = GzipInflater.Inflate(data, options.MaxDecompressedBytes, options.InflateBudget, out var length);
        try
        {
            var inflated = buffer.AsSpan(0, length);
            return ProfileProtoScanner.TryScan(inflated, options, out var scanned) ? scanned : FullValidation(inflated, options);
        }
        finally
        {
            GzipInflater.Return(buffer, options.InflateBudget);
        }
    }

    private static ProfileValidation FullValidation(ReadOnlySpan<byte> uncompressed, ProfileDecoderOptions options)
    {
        if (uncompressed.IsEmpty)
        {
            throw new ProfileFormatException("parsing profile: empty input file");
        }

        var profile = DecodeUncompressed(uncompressed, options, out var idsRenumbered, out var fromLegacyFormat);

        // Proto input was held to the limits by the scan before this; legacy text is checked here.
        CheckSampleCount(profile.Samples.Count, options);
        var sampleTypes = new string[profile.SampleTypes.Count];
        for (var i = 0; i < sampleTypes.Length; i++)
        {
            sampleTypes[i] = profile.SampleTypes[i].Type;
        }

        foreach (var sample in profile.Samples)
        {
            CheckStackDepth(sample.Locations.Length, options);
        }

        return new ProfileValidation(profile.TimeNanos, idsRenumbered || fromLegacyFormat ? profile : null, profile.Samples.Count, sampleTypes)
        {
            Layout = SampleLayout.Describe(profile.SampleTypes, profile.PeriodType),
        };
    }

    /// <exception cref="ProfileFormatException">with <see cref="ProfileFormatException.ExceededLimit"/> "MaxSamples".</exception>
    internal static void CheckSampleCount(int count, ProfileDecoderOptions options)
    {
        if (count > options.MaxSamples)
        {
            throw new ProfileFormatException($"profile has more than {options.MaxSamples} samples", nameof(ProfileDecoderOptions.MaxSamples));
        }
    }

    /// <exception cref="ProfileFormatException">with <see cref="ProfileFormatException.ExceededLimit"/> "MaxStackDepth".</exception>
    internal static void CheckStackDepth(int depth, ProfileDecoderOptions options)
    {
        if (depth > options.MaxStackDepth)
        {
            throw new ProfileFormatException($"profile has a stack of {depth} locations, more than {options.MaxStackDepth}", nameof(ProfileDecoderOptions.MaxStackDepth));
        }
    }

    /// <summary>Decodes raw (not gzip-compressed) profile.proto only: no legacy formats, no checks beyond the wire format.</summary>
    internal static Profile DecodeProto(ReadOnlySpan<byte> data, out string? problem, ProfileStringPool? stringPool = null)
    {
        var reader = new ProfileProtoReader(stringPool);
        var profile = reader.Read(data);
        problem = reader.Problem;
        return profile;
    }

    // The order of Go's profile.ParseData: proto first; when that fails, the legacy formats; then the checks.
    private static Profile DecodeUncompressed(ReadOnlySpan<byte> data, ProfileDecoderOptions options, out bool idsRenumbered, out bool fromLegacyFormat)
    {
        if (data.IsEmpty)
        {
            throw new ProfileFormatException("parsing profile: empty input file");
        }

        Profile? profile;
        var fromProto = true;
        try
        {
            profile = DecodeProto(data, out var problem, options.StringPool);
            if (problem is not null)
            {
                throw new ProfileFormatException("malformed profile: " + problem);
            }
        }
        catch (ProtoWireException e)
        {
            if (e.Failure == ProtoFailure.Concatenated)
            {
                throw new ProfileFormatException("parsing profile: " + e.Message, e);
            }

            fromProto = false;
            if (!TryParseLegacy(data, options, out profile))
            {
                // A string index out of range in something that otherwise decoded as a profile deserves
                // a precise message; anything else is simply not a profile (Go's wording).
                throw e.Failure == ProtoFailure.StringIndex
                    ? new ProfileFormatException("malformed profile: " + e.Message, e)
                    : new ProfileFormatException("parsing profile: unrecognized profile format", e);
            }
        }

        fromLegacyFormat = !fromProto;
        idsRenumbered = ProfileValidator.NormalizeIds(profile);
        if (ProfileValidator.FindProblem(profile, checkReferences: !fromProto) is { } invalid)
        {
            throw new ProfileFormatException("malformed profile: " + invalid);
        }

        if (options.RequireSamples && profile.Samples.Count == 0)
        {
            throw new ProfileFormatException("profile is empty: no samples");
        }

        return profile;
    }

    private static bool TryParseLegacy(ReadOnlySpan<byte> data, ProfileDecoderOptions options, out Profile profile)
    {
        Profile? parsed;
        try
        {
            if (!LegacyProfileParser.TryParse(data, options, out parsed) || parsed is null)
            {
                profile = null!;
                return false;
            }
        }
        catch (Exception e) when (e is not (ProfileFormatException or OutOfMemoryException))
        {
            // The legacy parsers must only throw ProfileFormatException; this keeps the promise that bad
            // input never surfaces as another exception type even if one of them slips.
            throw new ProfileFormatException("parsing profile: " + e.Message, e);
        }

        profile = parsed;
        return true;
    }
}
