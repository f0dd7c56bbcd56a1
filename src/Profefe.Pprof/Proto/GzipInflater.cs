using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;

namespace Profefe.Pprof.Proto;

/// <summary>
/// Inflates a gzip body into a pooled buffer, with a size limit, and reports errors in the words of Go's
/// compress/gzip (which profefe's messages quote): "unexpected EOF", "gzip: invalid header", ….
/// </summary>
internal static class GzipInflater
{
    // Deflate cannot expand data by more than about 1032:1, so the trailer's size claim is only trusted as a
    // buffer size hint up to that ratio: a lying trailer cannot make us rent a huge buffer.
    private const long MaxDeflateRatio = 1040;

    public static bool IsGzip(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 0x1f && data[1] == 0x8b;

    /// <summary>
    /// Inflates <paramref name="data"/> into a pooled buffer that grows as bytes come out, each size taken from
    /// <paramref name="budget"/> (when there is one) before it is rented; give it back with <see cref="Return"/>.
    /// </summary>
    /// <exception cref="ProfileFormatException">
    /// the body is not complete, valid gzip or inflates past the limit; or the budget has no room left
    /// (<see cref="ProfileFormatException.ExceededLimit"/> "InflateBudget").
    /// </exception>
    public static unsafe byte[] Inflate(ReadOnlySpan<byte> data, long maxBytes, InflateBudget? budget, out int length)
    {
        // The gzip header is 10 bytes; the method byte must say deflate (8). Checked here because .NET's
        // GZipStream reports both a bad header and bad data with the same exception.
        if (data.Length < 10)
        {
            throw Error("unexpected EOF");
        }

        if (data[2] != 8)
        {
            throw Error("gzip: invalid header");
        }

        var limit = Math.Clamp(maxBytes, 0, Array.MaxLength - 1L);
        var hint = data.Length >= 18 ? BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]) : 0u;
        var most = Math.Min(limit, (data.Length * MaxDeflateRatio) + 4096);
        // The trailer's size is the sender's word: trusting it fully would let a small body reserve the whole
        // limit, so the buffer starts at most 16 times the input and grows as bytes really come out.
        var initial = Math.Clamp((long)hint + 1, Math.Min(4096, most), Math.Min(most, Math.Max(4096, data.Length * 16L)));
        var buffer = Rent((int)initial, budget);
        var total = 0;
        try
        {
            fixed (byte* pointer = data)
            {
                using var input = new UnmanagedMemoryStream(pointer, data.Length);
                using var gzip = new GZipStream(input, CompressionMode.Decompress);

                // Never more than the limit: the pool rounds sizes up to a power of two, and a buffer of limit + 1
                // bytes (to see the one byte too many) took twice the limit. One probe byte tells instead.
                var capacity = (int)Math.Min(buffer.Length, limit);
                while (true)
                {
                    if (total == capacity)
                    {
                        if (total >= limit)
                        {
                            Span<byte> probe = stackalloc byte[1];
                            if (gzip.Read(probe) > 0)
                            {
                                throw TooLarge(maxBytes);
                            }

                            break;
                        }

                        var next = Rent((int)Math.Min((long)capacity * 2, limit), budget);
                        buffer.AsSpan(0, total).CopyTo(next);
                        Return(buffer, budget);
                        buffer = next;
                        capacity = (int)Math.Min(buffer.Length, limit);
                    }

                    var read = gzip.Read(buffer, total, capacity - total);
                    if (read == 0)
                    {
                        break;
                    }

                    total += read;
                }
            }

            CheckTrailer(data, buffer.AsSpan(0, total));
            length = total;
            return buffer;
        }
        catch (InvalidDataException)
        {
            Return(buffer, budget);
            throw Error(BodyInflates(data, limit) ? "gzip: invalid checksum" : "flate: corrupt input");
        }
        catch
        {
            Return(buffer, budget);
            throw;
        }
    }

    /// <summary>Gives a buffer from <see cref="Inflate"/> back to the pool and its bytes back to the budget.</summary>
    public static void Return(byte[] buffer, InflateBudget? budget)
    {
        budget?.Release(buffer.Length);
        BufferPool.Return(buffer);
    }

    private static byte[] Rent(int minimumLength, InflateBudget? budget)
    {
        byte[] buffer;
        try
        {
            buffer = BufferPool.Rent(minimumLength);
        }
        catch (OutOfMemoryException)
        {
            // A large array the heap has no room for now: like a full budget, the upload can be retried later.
            throw new ProfileFormatException(
                $"decompressing profile: no memory for a buffer of {minimumLength} bytes while other requests hold it; retry shortly",
                nameof(ProfileDecoderOptions.InflateBudget));
        }

        try
        {
            budget?.Reserve(buffer.Length);
            return buffer;
        }
        catch (ProfileFormatException)
        {
            BufferPool.Return(buffer);
            throw;
        }
    }

    // GZipStream reports a bad trailer and bad compressed data alike; Go tells "invalid checksum" apart.
    // Only on this error path: inflate the body of a plain single-member file again on its own.
    private static unsafe bool BodyInflates(ReadOnlySpan<byte> data, long limit)
    {
        if (data.Length < 18 || data[3] != 0)
        {
            return false;
        }

        var body = data[10..^8];
        var scratch = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            fixed (byte* pointer = body)
            {
                using var input = new UnmanagedMemoryStream(pointer, body.Length);
                using var deflate = new DeflateStream(input, CompressionMode.Decompress);
                long total = 0;
                int read;
                while ((read = deflate.Read(scratch)) > 0)
                {
                    total += read;
                    if (total > limit)
                    {
                        return false;
                    }
                }

                return true;
            }
        }
        catch (InvalidDataException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    // .NET's GZipStream ends silently when the input stops in the middle of the stream, while Go reports
    // "unexpected EOF" (profefe's answer to a truncated upload). The trailer tells the two apart: a complete
    // single-member body ends with the CRC-32 and the size of what it inflates to.
    private static void CheckTrailer(ReadOnlySpan<byte> data, ReadOnlySpan<byte> inflated)
    {
        if (data.Length < 18)
        {
            throw Error("unexpected EOF");
        }

        var crc = BinaryPrimitives.ReadUInt32LittleEndian(data[^8..]);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]);
        if (size == (uint)inflated.Length)
        {
            if (System.IO.Hashing.Crc32.HashToUInt32(inflated) != crc)
            {
                throw Error("gzip: invalid checksum");
            }

            return;
        }

        // Concatenated gzip members (legal, Go reads them): the trailer covers only the last member.
        if (size < (uint)inflated.Length && System.IO.Hashing.Crc32.HashToUInt32(inflated[^(int)size..]) == crc)
        {
            return;
        }

        throw Error("unexpected EOF");
    }

    private static ProfileFormatException Error(string message) => new("decompressing profile: " + message);

    private static ProfileFormatException TooLarge(long maxBytes) =>
        new($"decompressing profile: decompressed size exceeds the limit of {maxBytes} bytes", nameof(ProfileDecoderOptions.MaxDecompressedBytes));
}
