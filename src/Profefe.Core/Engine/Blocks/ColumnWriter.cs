using System.Buffers;
using System.Text;

namespace Profefe.Core.Engine.Blocks;

/// <summary>
/// Appends varints to a growing buffer: the one encoding of every engine file (symbols, blocks, rollups).
/// Hand-written because per-value calls into a general serializer cost more than the values themselves here.
/// </summary>
public sealed class ColumnWriter
{
    private readonly ArrayBufferWriter<byte> _buffer;

    public ColumnWriter(int capacity = 4096) => _buffer = new ArrayBufferWriter<byte>(capacity);

    public int Length => _buffer.WrittenCount;

    public ReadOnlySpan<byte> Written => _buffer.WrittenSpan;

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    public void Clear() => _buffer.Clear();

    public void WriteUInt(ulong value)
    {
        var span = _buffer.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        _buffer.Advance(i);
    }

    public void WriteInt(long value) => WriteUInt((ulong)((value << 1) ^ (value >> 63)));

    public void WriteString(string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        WriteUInt((ulong)count);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(count));
        _buffer.Advance(count);
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        WriteUInt((ulong)bytes.Length);
        bytes.CopyTo(_buffer.GetSpan(bytes.Length));
        _buffer.Advance(bytes.Length);
    }
}

/// <summary>Reads what <see cref="ColumnWriter"/> wrote; a truncated or corrupt input throws <see cref="InvalidDataException"/>.</summary>
public ref struct ColumnReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public ColumnReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public readonly bool End => _position >= _data.Length;

    public ulong ReadUInt()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _data.Length)
            {
                throw new InvalidDataException("engine data is truncated");
            }

            var b = _data[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new InvalidDataException("engine data has a malformed varint");
    }

    public long ReadInt()
    {
        var raw = ReadUInt();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    public int ReadCount()
    {
        var value = ReadUInt();
        return value > int.MaxValue ? throw new InvalidDataException("engine data has an impossible count") : (int)value;
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        var count = ReadCount();
        if (count > _data.Length - _position)
        {
            throw new InvalidDataException("engine data is truncated");
        }

        var bytes = _data.Slice(_position, count);
        _position += count;
        return bytes;
    }

    public string ReadString() => Encoding.UTF8.GetString(ReadBytes());
}
