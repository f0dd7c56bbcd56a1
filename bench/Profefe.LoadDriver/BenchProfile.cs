using System.IO.Compression;

namespace Profefe.LoadDriver;

/// <summary>
/// The pushed profile. The collector takes created_at from the profile's own time_nanos when it is set,
/// which would give all pushes the same time; the body therefore drops that one field (and is gzipped
/// again), so that each push's created_at query parameter decides and time ranges select known counts.
/// </summary>
internal sealed record BenchProfile(byte[] Original, byte[] Body)
{
    private const int TimeNanosField = 9;

    public static BenchProfile Load(string path)
    {
        var original = File.ReadAllBytes(path);
        using var inflated = new MemoryStream();
        using (var gzip = new GZipStream(new MemoryStream(original), CompressionMode.Decompress))
        {
            gzip.CopyTo(inflated);
        }

        var proto = StripTimeNanos(inflated.ToArray());

        // The pushed size should stay that of the measured file: take the zlib level that comes closest.
        byte[] body = [];
        for (var level = 1; level <= 9; level++)
        {
            using var output = new MemoryStream();
            using (var gzip = new GZipStream(output, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true))
            {
                gzip.Write(proto);
            }

            if (body.Length == 0 || Math.Abs(output.Length - original.Length) < Math.Abs(body.Length - original.Length))
            {
                body = output.ToArray();
            }
        }

        return new BenchProfile(original, body);
    }

    private static byte[] StripTimeNanos(byte[] proto)
    {
        using var output = new MemoryStream(proto.Length);
        var position = 0;
        while (position < proto.Length)
        {
            var start = position;
            var tag = ReadVarint(proto, ref position);
            SkipValue(proto, ref position, (int)(tag & 7));
            if ((int)(tag >> 3) != TimeNanosField)
            {
                output.Write(proto, start, position - start);
            }
        }

        return output.ToArray();
    }

    private static void SkipValue(byte[] proto, ref int position, int wireType)
    {
        switch (wireType)
        {
            case 0:
                ReadVarint(proto, ref position);
                break;
            case 1:
                position += 8;
                break;
            case 2:
                var length = checked((int)ReadVarint(proto, ref position));
                position += length;
                break;
            case 5:
                position += 4;
                break;
            default:
                throw new InvalidDataException($"unsupported protobuf wire type {wireType} at byte {position}");
        }

        if (position > proto.Length)
        {
            throw new InvalidDataException("truncated profile");
        }
    }

    private static ulong ReadVarint(byte[] proto, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= proto.Length)
            {
                throw new InvalidDataException("truncated varint in profile");
            }

            var b = proto[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new InvalidDataException("varint too long in profile");
    }
}
