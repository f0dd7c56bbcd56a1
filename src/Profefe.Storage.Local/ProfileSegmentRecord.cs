using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Profefe.Core.Profiles;
using Profefe.Core.Tenancy;

namespace Profefe.Storage.Local;

/// <summary>
/// One stored profile in a segment file: everything the index needs besides the bytes, so the index can be
/// rebuilt from the segments after a crash, and a checksum that makes a torn or damaged record visible.
/// Layout (little-endian): magic, body length, CRC-32 of the body; then the body: id, type, created and
/// stored ticks, service, labels (<see cref="LabelCodec"/>), data. A profile of a tenant other than the default
/// is written under a second magic with its tenant (1-byte length, ASCII) after the service; the default tenant's
/// records keep the first layout, so segments written before tenants read as the default tenant's.
/// </summary>
internal static class ProfileSegmentRecord
{
    public const int HeaderLength = 12;

    // "PFR1": a record starts here; anything else is the torn end of a crashed write or damage.
    private const uint Magic = 0x31524650;

    // "PFR2": a record that carries its tenant.
    private const uint TenantMagic = 0x32524650;
    private const int FixedBodyLength = ProfileId.ByteLength + 4 + 8 + 8 + 2 + 4 + 4;

    public static int Length(ProfileMeta meta, byte[] labels, int dataLength) =>
        HeaderLength + FixedBodyLength + Encoding.UTF8.GetByteCount(meta.Service) + TenantLength(meta.Tenant) + labels.Length + dataLength;

    // Tenant ids are at most 150 ASCII characters (TenantId.MaxLength), so one length byte holds them.
    private static int TenantLength(TenantId tenant) => tenant.IsDefault ? 0 : 1 + tenant.Key.Length;

    /// <summary>Writes the record into <paramref name="destination"/> (exactly <see cref="Length"/> bytes).</summary>
    public static void Write(Span<byte> destination, ProfileMeta meta, byte[] labels, ReadOnlySpan<byte> data)
    {
        var body = destination[HeaderLength..];
        meta.ProfileId.WriteBytes(body);
        var position = ProfileId.ByteLength;
        BinaryPrimitives.WriteInt32LittleEndian(body[position..], (int)meta.Type);
        BinaryPrimitives.WriteInt64LittleEndian(body[(position + 4)..], LocalProfileStorage.ToTicks(meta.CreatedAt));
        BinaryPrimitives.WriteInt64LittleEndian(body[(position + 12)..], LocalProfileStorage.ToTicks(meta.StoredAt));
        position += 20;
        var serviceLength = Encoding.UTF8.GetBytes(meta.Service, body[(position + 2)..]);
        BinaryPrimitives.WriteUInt16LittleEndian(body[position..], checked((ushort)serviceLength));
        position += 2 + serviceLength;
        if (!meta.Tenant.IsDefault)
        {
            var tenant = meta.Tenant.Key;
            body[position] = checked((byte)tenant.Length);
            position += 1 + Encoding.ASCII.GetBytes(tenant, body[(position + 1)..]);
        }

        BinaryPrimitives.WriteInt32LittleEndian(body[position..], labels.Length);
        labels.CopyTo(body[(position + 4)..]);
        position += 4 + labels.Length;
        BinaryPrimitives.WriteInt32LittleEndian(body[position..], data.Length);
        data.CopyTo(body[(position + 4)..]);
        body = body[..(position + 4 + data.Length)];

        BinaryPrimitives.WriteUInt32LittleEndian(destination, meta.Tenant.IsDefault ? Magic : TenantMagic);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Crc32.HashToUInt32(body));
    }

    /// <summary>The body length the header announces, or -1 when <paramref name="header"/> is not a record's start.</summary>
    public static int BodyLength(ReadOnlySpan<byte> header) =>
        header.Length >= HeaderLength
        && BinaryPrimitives.ReadUInt32LittleEndian(header) is Magic or TenantMagic
        && BinaryPrimitives.ReadInt32LittleEndian(header[4..]) is var length and >= FixedBodyLength
            ? length
            : -1;

    /// <summary>
    /// The data of a whole record read back for a profile: checks the checksum and that it is
    /// <paramref name="expected"/>'s record, without decoding the rest.
    /// </summary>
    /// <exception cref="InvalidDataException">the record is damaged or not that profile's.</exception>
    public static ReadOnlyMemory<byte> Data(byte[] record, ProfileId expected)
    {
        var span = record.AsSpan();
        var bodyLength = BodyLength(span);
        if (bodyLength < 0 || span.Length != HeaderLength + bodyLength)
        {
            throw new InvalidDataException($"the stored record of profile {expected} is damaged (bad header)");
        }

        var body = span[HeaderLength..];
        if (Crc32.HashToUInt32(body) != BinaryPrimitives.ReadUInt32LittleEndian(span[8..]))
        {
            throw new InvalidDataException($"the stored record of profile {expected} is damaged (checksum mismatch)");
        }

        if (ProfileId.FromBytes(body[..ProfileId.ByteLength]) != expected)
        {
            throw new InvalidDataException($"the stored record of profile {expected} holds another profile");
        }

        var position = ProfileId.ByteLength + 20;
        position += 2 + BinaryPrimitives.ReadUInt16LittleEndian(body[position..]);
        if (BinaryPrimitives.ReadUInt32LittleEndian(span) == TenantMagic)
        {
            position += 1 + body[position];
        }

        position += 4 + BinaryPrimitives.ReadInt32LittleEndian(body[position..]);
        var dataLength = BinaryPrimitives.ReadInt32LittleEndian(body[position..]);
        position += 4;
        return record.AsMemory(HeaderLength + position, dataLength);
    }

    /// <summary>Reads a whole record (header and body); null when it is torn, damaged or not a record.</summary>
    public static SegmentRecord? Read(ReadOnlySpan<byte> record)
    {
        var bodyLength = BodyLength(record);
        if (bodyLength < 0 || record.Length < HeaderLength + bodyLength)
        {
            return null;
        }

        var body = record.Slice(HeaderLength, bodyLength);
        if (Crc32.HashToUInt32(body) != BinaryPrimitives.ReadUInt32LittleEndian(record[8..]))
        {
            return null;
        }

        var id = ProfileId.FromBytes(body[..ProfileId.ByteLength]);
        var position = ProfileId.ByteLength;
        var type = (ProfileType)BinaryPrimitives.ReadInt32LittleEndian(body[position..]);
        // The stored time that follows is kept for tools reading segments alone; the meta derives it from the id.
        var created = BinaryPrimitives.ReadInt64LittleEndian(body[(position + 4)..]);
        position += 20;
        int serviceLength = BinaryPrimitives.ReadUInt16LittleEndian(body[position..]);
        position += 2;
        if (position + serviceLength + 4 > body.Length)
        {
            return null;
        }

        var service = Encoding.UTF8.GetString(body.Slice(position, serviceLength));
        position += serviceLength;
        var tenant = TenantId.Default;
        if (BinaryPrimitives.ReadUInt32LittleEndian(record) == TenantMagic)
        {
            int tenantLength = body[position];
            if (position + 1 + tenantLength + 4 > body.Length
                || !TenantId.TryParse(Encoding.ASCII.GetString(body.Slice(position + 1, tenantLength)), out tenant, out _))
            {
                return null;
            }

            position += 1 + tenantLength;
        }
        var labelsLength = BinaryPrimitives.ReadInt32LittleEndian(body[position..]);
        position += 4;
        if (labelsLength < 0 || position + labelsLength + 4 > body.Length)
        {
            return null;
        }

        var labels = body.Slice(position, labelsLength).ToArray();
        position += labelsLength;
        var dataLength = BinaryPrimitives.ReadInt32LittleEndian(body[position..]);
        position += 4;
        if (dataLength != body.Length - position)
        {
            return null;
        }

        var meta = new ProfileMeta(id, type, service, LabelCodec.Decode(labels), LocalProfileStorage.FromTicks(created), tenant);
        return new SegmentRecord(meta, labels);
    }
}

/// <summary>A decoded record without its bytes: what re-indexing it needs (the meta and the encoded labels).</summary>
internal sealed record SegmentRecord(ProfileMeta Meta, byte[] Labels);
