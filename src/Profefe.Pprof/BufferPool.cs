using System.Buffers;

namespace Profefe.Pprof;

/// <summary>
/// Byte buffers for request bodies and inflated profiles: up to <see cref="MaxPooledLength"/> from
/// <see cref="ArrayPool{T}.Shared"/>, larger ones allocated and left to the GC. The shared pool keeps arrays of
/// every size per core until memory pressure trims it; after the soak's fifty 32 MiB uploads it held about 2 GiB of
/// them in a 4 GiB container, and the gzip bombs that followed ran out of memory although their budget had room.
/// </summary>
public static class BufferPool
{
    /// <summary>The largest buffer pooled: far above the profiles agents send (tens of KB), far below the limits.</summary>
    public const int MaxPooledLength = 1 << 20;

    public static byte[] Rent(int minimumLength) =>
        minimumLength <= MaxPooledLength ? ArrayPool<byte>.Shared.Rent(minimumLength) : GC.AllocateUninitializedArray<byte>(minimumLength);

    /// <summary>Takes back a buffer from <see cref="Rent"/>; one too large to pool is left to the GC.</summary>
    public static void Return(byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.Length <= MaxPooledLength)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
