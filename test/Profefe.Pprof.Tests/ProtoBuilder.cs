using Profefe.Pprof.Proto;

namespace Profefe.Pprof.Tests;

/// <summary>Builds raw profile.proto bytes field by field, for inputs no well-behaved encoder would write.</summary>
internal sealed class ProtoBuilder : IDisposable
{
    private readonly ProtoWriter _writer = new();

    public ProtoBuilder Varint(int field, ulong value)
    {
        _writer.WriteUInt64(field, value);
        return this;
    }

    public ProtoBuilder String(int field, string value)
    {
        _writer.WriteString(field, value);
        return this;
    }

    public ProtoBuilder Packed(int field, params ulong[] values)
    {
        _writer.WriteTag(field, WireType.LengthDelimited);
        var size = values.Sum(v => ProtoWriter.VarintSize(v));
        _writer.WriteVarint((ulong)size);
        foreach (var value in values)
        {
            _writer.WriteVarint(value);
        }

        return this;
    }

    public ProtoBuilder Message(int field, Action<ProtoBuilder> body)
    {
        var start = _writer.BeginMessage(field);
        body(this);
        _writer.EndMessage(start);
        return this;
    }

    /// <summary>One field of each wire type under a field number profile.proto does not use.</summary>
    public ProtoBuilder UnknownFields(int field = 100)
    {
        _writer.WriteUInt64(field, 300);
        _writer.WriteTag(field, WireType.Fixed64);
        _writer.WriteRaw([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        _writer.WriteString(field, "ignored");
        _writer.WriteTag(field, WireType.StartGroup);
        _writer.WriteUInt64(1, 5);
        _writer.WriteTag(2, WireType.StartGroup);
        _writer.WriteTag(2, WireType.EndGroup);
        _writer.WriteTag(field, WireType.EndGroup);
        _writer.WriteTag(field, WireType.Fixed32);
        _writer.WriteRaw([0x80, 0x80, 0x80, 0x80]);
        return this;
    }

    public byte[] ToArray() => _writer.WrittenSpan.ToArray();

    public void Dispose() => _writer.Dispose();

    /// <summary>A small valid profile: strings "", samples, count, main, main.go; one function, one location, one sample.</summary>
    public static ProtoBuilder Minimal(
        ulong functionId = 1,
        ulong locationId = 1,
        ulong lineFunctionId = 1,
        ulong sampleLocationId = 1,
        long nameIndex = 3)
    {
        var builder = new ProtoBuilder();
        builder.Message(1, m => m.Varint(1, 1).Varint(2, 2));
        builder.Message(2, m => m.Varint(1, sampleLocationId).Varint(2, 7));
        builder.Message(4, m => m.Varint(1, locationId).Message(4, l => l.Varint(1, lineFunctionId).Varint(2, 10)));
        builder.Message(5, m => m.Varint(1, functionId).Varint(2, (ulong)nameIndex).Varint(4, 4));
        foreach (var s in new[] { "", "samples", "count", "main", "main.go" })
        {
            builder.String(6, s);
        }

        return builder;
    }
}
