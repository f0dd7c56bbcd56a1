namespace Profefe.Pprof;

/// <summary>Writes profiles as profile.proto, gzip-compressed by default, the way go tool pprof reads them.</summary>
public static class ProfileEncoder
{
    public static void Encode(Profile profile, Stream destination, bool compress = true)
    {
        _ = profile;
        _ = destination;
        _ = compress;
        throw new NotImplementedException("ProfileEncoder.Encode is being written (issue 2).");
    }

    public static byte[] EncodeToArray(Profile profile, bool compress = true)
    {
        using var buffer = new MemoryStream();
        Encode(profile, buffer, compress);
        return buffer.ToArray();
    }
}
