using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Profefe.Pprof.Proto;

/// <summary>Protobuf wire types (https://protobuf.dev/programming-guides/encoding/).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>
/// Reads protobuf wire format from a span. Every length is checked against the bytes that remain, so a
/// reader can never run past its input, and every method advances by at least one byte or fails, so a
/// loop over fields is linear in the input size.
/// </summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public ProtoReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public readonly bool End => _position >= _data.Length;

    public readonly int Position => _position;

    /// <summary>Reads a field key; field number 0 and the wire types 6 and 7 do not exist.</summary>
    /// <remarks>
    /// Two small departures from Go's pprof decoder, both per the protobuf spec: field 0 is an error (Go
    /// skips it), and an unknown field in a group is skipped (Go rejects groups). Neither occurs in real
    /// profiles; rejecting field 0 makes text and other non-proto input fail sooner.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadTag(out WireType wireType)
    {
        var key = ReadVarint();
        var field = key >> 3;
        var type = (int)(key & 7);
        if (field == 0 || field > int.MaxValue || type > 5)
        {
            throw new ProtoWireException(field == 0 ? "invalid field number 0" : $"invalid wire type {type}");
        }

        wireType = (WireType)type;
        return (int)field;
    }

    // The checks on every field inline into the scanner's and decoder's loops only with their throws moved out:
    // the formatted message kept ExpectWireType a call per field (1.5-2 % of the collector's CPU under ingest, perf).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ExpectWireType(WireType actual, WireType expected)
    {
        if (actual != expected)
        {
            ThrowTypeMismatch(actual, expected);
        }
    }

    /// <summary>A varint field's value, after checking the field is one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadVarint(WireType wireType)
    {
        ExpectWireType(wireType, WireType.Varint);
        return ReadVarint();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SkipVarint(WireType wireType)
    {
        ExpectWireType(wireType, WireType.Varint);
        SkipVarint();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadVarint()
    {
        var data = _data;
        var position = _position;
        if ((uint)position < (uint)data.Length)
        {
            var first = data[position];
            if (first < 0x80)
            {
                _position = position + 1;
                return first;
            }

            // Two bytes (values below 16384: most ids, indices and lengths in a profile).
            if ((uint)(position + 1) < (uint)data.Length && data[position + 1] < 0x80)
            {
                _position = position + 2;
                return (first & 0x7Fu) | ((ulong)data[position + 1] << 7);
            }
        }

        return ReadVarintSlow();
    }

    /// <summary>Steps over a varint without decoding it; fails exactly where <see cref="ReadVarint()"/> would.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SkipVarint()
    {
        var data = _data;
        var position = _position;
        if ((uint)position < (uint)data.Length && data[position] < 0x80)
        {
            _position = position + 1;
            return;
        }

        SkipVarintSlow();
    }

    private void SkipVarintSlow()
    {
        var rest = _data[_position..];
        var length = Math.Min(rest.Length, 10);

        // The first byte without the continuation bit ends the varint.
        var end = rest[..length].IndexOfAnyInRange((byte)0, (byte)0x7F);
        if (end < 0)
        {
            throw new ProtoWireException(length == 10 ? "varint longer than 10 bytes" : "unexpected end of data in varint");
        }

        _position += end + 1;
    }

    private ulong ReadVarintSlow()
    {
        ulong result = 0;
        var shift = 0;
        var data = _data;
        var position = _position;
        while (true)
        {
            if ((uint)position >= (uint)data.Length)
            {
                throw new ProtoWireException("unexpected end of data in varint");
            }

            var b = data[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                _position = position;
                return result;
            }

            shift += 7;
            if (shift >= 70)
            {
                throw new ProtoWireException("varint longer than 10 bytes");
            }
        }
    }

    public long ReadInt64() => (long)ReadVarint();

    /// <summary>The payload of a length-delimited field.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> ReadBytes()
    {
        var length = ReadVarint();
        if (length > (ulong)(_data.Length - _position))
        {
            ThrowPastEnd();
        }

        var slice = _data.Slice(_position, (int)length);
        _position += (int)length;
        return slice;
    }

    /// <summary>Skips one field of the given wire type. Groups are skipped iteratively, never recursively.</summary>
    public void Skip(WireType wireType)
    {
        switch (wireType)
        {
            case WireType.Varint:
                ReadVarint();
                break;
            case WireType.Fixed64:
                Advance(8);
                break;
            case WireType.LengthDelimited:
                ReadBytes();
                break;
            case WireType.Fixed32:
                Advance(4);
                break;
            case WireType.StartGroup:
                SkipGroup();
                break;
            default:
                throw new ProtoWireException("unexpected end group");
        }
    }

    private void SkipGroup()
    {
        var depth = 1;
        while (depth > 0)
        {
            if (End)
            {
                throw new ProtoWireException("unexpected end of data in group");
            }

            ReadTag(out var wireType);
            switch (wireType)
            {
                case WireType.StartGroup:
                    depth++;
                    break;
                case WireType.EndGroup:
                    depth--;
                    break;
                default:
                    Skip(wireType);
                    break;
            }
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTypeMismatch(WireType actual, WireType expected) =>
        throw new ProtoWireException($"type mismatch: wire type {(int)actual} where {(int)expected} was expected");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowPastEnd() => throw new ProtoWireException("length past the end of data");

    private void Advance(int count)
    {
        if (count > _data.Length - _position)
        {
            throw new ProtoWireException("unexpected end of data");
        }

        _position += count;
    }
}

/// <summary>Why proto decoding failed; decides the message <see cref="ProfileDecoder"/> gives.</summary>
internal enum ProtoFailure
{
    /// <summary>Not protobuf wire format, or not shaped like a profile.</summary>
    Wire,

    /// <summary>Shaped like a profile, but a string index is outside the string table.</summary>
    StringIndex,

    /// <summary>A second time_nanos: two profiles concatenated.</summary>
    Concatenated,
}

/// <summary>The data is not a decodable profile.proto; callers turn it into a <see cref="ProfileFormatException"/>.</summary>
internal sealed class ProtoWireException : Exception
{
    public ProtoWireException()
    {
    }

    public ProtoWireException(string message)
        : base(message)
    {
    }

    public ProtoWireException(ProtoFailure failure, string message)
        : base(message)
    {
        Failure = failure;
    }

    public ProtoFailure Failure { get; }

    public ProtoWireException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
