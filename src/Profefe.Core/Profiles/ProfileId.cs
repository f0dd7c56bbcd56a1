using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Profefe.Core.Profiles;

/// <summary>
/// A profile id: a 12-byte xid (4 bytes of Unix seconds, 3 of machine, 2 of process, 3 of counter),
/// written as 20 characters of base32hex in lower case without padding, as profefe writes them.
/// Ids generated later sort after earlier ones, bytewise and as strings.
/// </summary>
public readonly record struct ProfileId : IComparable<ProfileId>
{
    public const int ByteLength = 12;
    public const int EncodedLength = 20;
    private const string Alphabet = "0123456789abcdefghijklmnopqrstuv";

    private static readonly byte[] MachineAndProcess = CreateMachineAndProcess();
    private static int _counter = RandomNumberGenerator.GetInt32(1 << 24);

    // Two longs keep the struct small and its equality free of allocations.
    private readonly ulong _high;
    private readonly uint _low;

    private ProfileId(ulong high, uint low)
    {
        _high = high;
        _low = low;
    }

    public static ProfileId FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != ByteLength)
        {
            throw new ArgumentException($"a profile id has {ByteLength} bytes, not {bytes.Length}", nameof(bytes));
        }

        return new ProfileId(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]));
    }

    public void WriteBytes(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _high);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], _low);
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[ByteLength];
        WriteBytes(bytes);
        return bytes;
    }

    /// <summary>The time part of the id, in whole seconds.</summary>
    public DateTime Timestamp => DateTime.UnixEpoch.AddSeconds(_high >> 32);

    public static ProfileId NewId(DateTime timestamp)
    {
        Span<byte> bytes = stackalloc byte[ByteLength];
        var seconds = (uint)Math.Clamp(new DateTimeOffset(timestamp.ToUniversalTime()).ToUnixTimeSeconds(), 0, uint.MaxValue);
        BinaryPrimitives.WriteUInt32BigEndian(bytes, seconds);
        MachineAndProcess.CopyTo(bytes[4..]);
        var counter = Interlocked.Increment(ref _counter);
        bytes[9] = (byte)(counter >> 16);
        bytes[10] = (byte)(counter >> 8);
        bytes[11] = (byte)counter;
        return FromBytes(bytes);
    }

    public static ProfileId Parse(string text) =>
        TryParse(text, out var id) ? id : throw new FormatException($"\"{text}\" is not a profile id");

    public static bool TryParse([NotNullWhen(true)] string? text, out ProfileId id) =>
        TryParse(text.AsSpan(), out id);

    public static bool TryParse(ReadOnlySpan<char> text, out ProfileId id)
    {
        id = default;
        if (text.Length != EncodedLength)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[ByteLength + 1];
        ulong buffer = 0;
        var bits = 0;
        var written = 0;
        foreach (var c in text)
        {
            int value = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'v' => c - 'a' + 10,
                _ => -1,
            };
            if (value < 0)
            {
                return false;
            }

            buffer = (buffer << 5) | (uint)value;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                bytes[written++] = (byte)(buffer >> bits);
            }
        }

        // 20 characters carry 100 bits; the last 4 must be zero for the text to be canonical.
        if ((buffer & ((1UL << bits) - 1)) != 0)
        {
            return false;
        }

        id = FromBytes(bytes[..ByteLength]);
        return true;
    }

    public override string ToString()
    {
        return string.Create(EncodedLength, this, static (chars, id) =>
        {
            Span<byte> raw = stackalloc byte[ByteLength];
            id.WriteBytes(raw);
            ulong buffer = 0;
            var bits = 0;
            var index = 0;
            foreach (var b in raw)
            {
                buffer = (buffer << 8) | b;
                bits += 8;
                while (bits >= 5)
                {
                    bits -= 5;
                    chars[index++] = Alphabet[(int)((buffer >> bits) & 31)];
                }
            }

            chars[index] = Alphabet[(int)((buffer << (5 - bits)) & 31)];
        });
    }

    public int CompareTo(ProfileId other)
    {
        var high = _high.CompareTo(other._high);
        return high != 0 ? high : _low.CompareTo(other._low);
    }

    public static bool operator <(ProfileId left, ProfileId right) => left.CompareTo(right) < 0;

    public static bool operator <=(ProfileId left, ProfileId right) => left.CompareTo(right) <= 0;

    public static bool operator >(ProfileId left, ProfileId right) => left.CompareTo(right) > 0;

    public static bool operator >=(ProfileId left, ProfileId right) => left.CompareTo(right) >= 0;

    private static byte[] CreateMachineAndProcess()
    {
        var value = new byte[5];
        var machine = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Environment.MachineName));
        machine.AsSpan(0, 3).CopyTo(value);
        BinaryPrimitives.WriteUInt16BigEndian(value.AsSpan(3), (ushort)Environment.ProcessId);
        return value;
    }
}
