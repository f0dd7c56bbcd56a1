using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;

namespace Profefe.Pprof.Proto;

/// <summary>
/// Writes protobuf wire format into a pooled, growing buffer. Nested messages reserve one length byte and
/// move their body only in the rare case it is 128 bytes or longer, so no size pre-pass is needed.
/// </summary>
internal sealed class ProtoWriter : IDisposable
{
    private byte[] _buffer;
    private int _position;

    public ProtoWriter(int initialCapacity = 64 * 1024)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);
    }

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _position);

    public int Length => _position;

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Ensure(int extra)
    {
        if (_buffer.Length - _position < extra)
        {
            Grow(extra);
        }
    }

    private void Grow(int extra)
    {
        var needed = (long)_position + extra;
        var size = Math.Max(needed, (long)_buffer.Length * 2);
        if (size > Array.MaxLength)
        {
            size = needed <= Array.MaxLength ? Array.MaxLength : throw new InvalidOperationException("profile too large to encode");
        }

        var next = ArrayPool<byte>.Shared.Rent((int)size);
        _buffer.AsSpan(0, _position).CopyTo(next);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = next;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteVarint(ulong value)
    {
        Ensure(10);
        var buffer = _buffer;
        var position = _position;
        while (value >= 0x80)
        {
            buffer[position++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[position++] = (byte)value;
        _position = position;
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_position));
        _position += bytes.Length;
    }

    public static int VarintSize(ulong value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteTag(int field, WireType wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

    public void WriteUInt64(int field, ulong value)
    {
        WriteTag(field, WireType.Varint);
        WriteVarint(value);
    }

    /// <summary>Writes the field unless it holds the default value, as proto3 does.</summary>
    public void WriteUInt64Optional(int field, ulong value)
    {
        if (value != 0)
        {
            WriteUInt64(field, value);
        }
    }

    public void WriteInt64Optional(int field, long value) => WriteUInt64Optional(field, (ulong)value);

    public void WriteBoolOptional(int field, bool value)
    {
        if (value)
        {
            WriteUInt64(field, 1);
        }
    }

    /// <summary>Repeated integers: packed when that is shorter, as Go's encoder decides (more than two values).</summary>
    public void WriteRepeated(int field, ReadOnlySpan<ulong> values)
    {
        if (values.Length <= 2)
        {
            foreach (var value in values)
            {
                WriteUInt64(field, value);
            }

            return;
        }

        var size = 0;
        foreach (var value in values)
        {
            size += VarintSize(value);
        }

        WriteTag(field, WireType.LengthDelimited);
        WriteVarint((ulong)size);
        Ensure(size);
        foreach (var value in values)
        {
            WriteVarint(value);
        }
    }

    public void WriteRepeated(int field, ReadOnlySpan<long> values) =>
        WriteRepeated(field, System.Runtime.InteropServices.MemoryMarshal.Cast<long, ulong>(values));

    public void WriteString(int field, string value)
    {
        var maxBytes = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (maxBytes < 128)
        {
            WriteTag(field, WireType.LengthDelimited);
            Ensure(1 + maxBytes);
            var written = Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_position + 1));
            _buffer[_position] = (byte)written;
            _position += 1 + written;
            return;
        }

        var count = Encoding.UTF8.GetByteCount(value);
        WriteTag(field, WireType.LengthDelimited);
        WriteVarint((ulong)count);
        Ensure(count);
        _position += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_position));
    }

    /// <summary>Starts a nested message; pass the result to <see cref="EndMessage"/>.</summary>
    public int BeginMessage(int field)
    {
        WriteTag(field, WireType.LengthDelimited);
        Ensure(1);
        return _position++;
    }

    public void EndMessage(int lengthPosition)
    {
        var length = _position - lengthPosition - 1;
        if (length < 0x80)
        {
            _buffer[lengthPosition] = (byte)length;
            return;
        }

        var extra = VarintSize((ulong)length) - 1;
        Ensure(extra);
        var body = _buffer.AsSpan(lengthPosition + 1, length);
        body.CopyTo(_buffer.AsSpan(lengthPosition + 1 + extra));
        var position = lengthPosition;
        var value = (ulong)length;
        while (value >= 0x80)
        {
            _buffer[position++] = (byte)(value | 0x80);
            value >>= 7;
        }

        _buffer[position] = (byte)value;
        _position += extra;
    }
}
