using System.Buffers.Binary;
using Profefe.Core.Profiles;

namespace Profefe.Core.Storage.Segments;

/// <summary>
/// Lays out one segment object: the profiles' bytes back to back, then a footer naming each profile's id, offset
/// and length, then the profile count and a magic number. Readers go by the index's offsets; the footer makes an
/// object readable on its own (to recover or audit a bucket without its index).
/// </summary>
public static class SegmentBuilder
{
    /// <summary>"PFSEG001", the last 8 bytes of every segment.</summary>
    public const ulong Magic = 0x5046_5345_4730_3031;

    private const int EntryBytes = ProfileId.ByteLength + sizeof(long) + sizeof(int);
    private const int TrailerBytes = sizeof(int) + sizeof(ulong);

    /// <summary>The segment of <paramref name="profiles"/> and each profile's offset in it, in the same order.</summary>
    public static (byte[] Data, long[] Offsets) Build(IReadOnlyList<(ProfileId Id, ReadOnlyMemory<byte> Data)> profiles)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        long total = TrailerBytes + ((long)EntryBytes * profiles.Count);
        for (var i = 0; i < profiles.Count; i++)
        {
            total += profiles[i].Data.Length;
        }

        if (total > Array.MaxLength)
        {
            throw new ArgumentException($"a segment of {profiles.Count} profiles would hold {total} bytes, more than one array can", nameof(profiles));
        }

        var data = new byte[total];
        var offsets = new long[profiles.Count];
        var position = 0;
        for (var i = 0; i < profiles.Count; i++)
        {
            offsets[i] = position;
            profiles[i].Data.Span.CopyTo(data.AsSpan(position));
            position += profiles[i].Data.Length;
        }

        for (var i = 0; i < profiles.Count; i++)
        {
            var entry = data.AsSpan(position, EntryBytes);
            profiles[i].Id.WriteBytes(entry);
            BinaryPrimitives.WriteInt64BigEndian(entry[ProfileId.ByteLength..], offsets[i]);
            BinaryPrimitives.WriteInt32BigEndian(entry[(ProfileId.ByteLength + sizeof(long))..], profiles[i].Data.Length);
            position += EntryBytes;
        }

        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(position), profiles.Count);
        BinaryPrimitives.WriteUInt64BigEndian(data.AsSpan(position + sizeof(int)), Magic);
        return (data, offsets);
    }

    /// <summary>The profiles a whole segment holds, by its footer; throws <see cref="FormatException"/> when it is not one.</summary>
    public static IReadOnlyList<(ProfileId Id, long Offset, int Length)> ReadFooter(ReadOnlySpan<byte> segment)
    {
        if (segment.Length < TrailerBytes || BinaryPrimitives.ReadUInt64BigEndian(segment[^sizeof(ulong)..]) != Magic)
        {
            throw new FormatException("not a segment object: the magic number is missing");
        }

        var count = BinaryPrimitives.ReadInt32BigEndian(segment[^TrailerBytes..]);
        var footer = (long)count * EntryBytes;
        if (count < 0 || footer > segment.Length - TrailerBytes)
        {
            throw new FormatException($"not a segment object: its footer names {count} profiles");
        }

        var entries = new (ProfileId, long, int)[count];
        var start = segment.Length - TrailerBytes - (int)footer;
        for (var i = 0; i < count; i++)
        {
            var entry = segment.Slice(start + (i * EntryBytes), EntryBytes);
            var offset = BinaryPrimitives.ReadInt64BigEndian(entry[ProfileId.ByteLength..]);
            var length = BinaryPrimitives.ReadInt32BigEndian(entry[(ProfileId.ByteLength + sizeof(long))..]);
            if (offset < 0 || length < 0 || offset + length > start)
            {
                throw new FormatException($"not a segment object: profile {i} lies outside its data");
            }

            entries[i] = (ProfileId.FromBytes(entry[..ProfileId.ByteLength]), offset, length);
        }

        return entries;
    }
}
