using System.Buffers;
using System.Text;
using Profefe.Core.Profiles;

namespace Profefe.Storage.Local;

/// <summary>
/// Labels of one profile as a blob: count, then per label the UTF-8 key and value, each length-prefixed.
/// Keeps order and duplicate keys exactly, which a key/value table alone would not.
/// </summary>
internal static class LabelCodec
{
    private static readonly byte[] Empty = [];

    public static byte[] Encode(IReadOnlyList<Label> labels)
    {
        if (labels.Count == 0)
        {
            return Empty;
        }

        var size = 5;
        for (var i = 0; i < labels.Count; i++)
        {
            size += 10 + Encoding.UTF8.GetMaxByteCount(labels[i].Key.Length) + Encoding.UTF8.GetMaxByteCount(labels[i].Value.Length);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var position = WriteVarint(buffer, 0, (uint)labels.Count);
            for (var i = 0; i < labels.Count; i++)
            {
                position = WriteString(buffer, position, labels[i].Key);
                position = WriteString(buffer, position, labels[i].Value);
            }

            return buffer.AsSpan(0, position).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static IReadOnlyList<Label> Decode(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return [];
        }

        var position = 0;
        var count = (int)ReadVarint(data, ref position);
        var labels = new Label[count];
        for (var i = 0; i < count; i++)
        {
            var key = ReadString(data, ref position);
            var value = ReadString(data, ref position);
            labels[i] = new Label(key, value);
        }

        return labels;
    }

    private static int WriteString(byte[] buffer, int position, string value)
    {
        var length = Encoding.UTF8.GetBytes(value, buffer.AsSpan(position + 5));
        var start = WriteVarint(buffer, position, (uint)length);
        if (start != position + 5)
        {
            buffer.AsSpan(position + 5, length).CopyTo(buffer.AsSpan(start));
        }

        return start + length;
    }

    private static string ReadString(ReadOnlySpan<byte> data, ref int position)
    {
        var length = (int)ReadVarint(data, ref position);
        var value = Encoding.UTF8.GetString(data.Slice(position, length));
        position += length;
        return value;
    }

    private static int WriteVarint(byte[] buffer, int position, uint value)
    {
        while (value >= 0x80)
        {
            buffer[position++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[position++] = (byte)value;
        return position;
    }

    private static uint ReadVarint(ReadOnlySpan<byte> data, ref int position)
    {
        uint value = 0;
        var shift = 0;
        while (true)
        {
            var b = data[position++];
            value |= (uint)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }

            shift += 7;
            if (shift > 28)
            {
                throw new InvalidDataException("stored labels are corrupt");
            }
        }
    }
}
