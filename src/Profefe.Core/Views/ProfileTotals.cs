using System.Buffers;
using System.IO.Compression;
using System.Runtime.InteropServices;
using Profefe.Pprof;

namespace Profefe.Core.Views;

/// <summary>
/// A profile's sample types and each one's total over all samples, read straight from the stored profile.proto
/// (gzip or raw) without building the profile: no locations, functions or strings but the few naming the sample
/// types. The timeline needs only these numbers, for hundreds or thousands of profiles at a time.
/// </summary>
/// <param name="DefaultSampleType">The profile's default_sample_type, or empty.</param>
public sealed record ProfileTotals(IReadOnlyList<SampleType> SampleTypes, IReadOnlyList<long> Totals, string DefaultSampleType)
{
    /// <summary>The profile's period type, or null when it has none.</summary>
    public SampleType? PeriodType { get; init; }

    // profile.proto field numbers.
    private const int SampleTypeField = 1;
    private const int SampleField = 2;
    private const int StringTableField = 6;
    private const int PeriodTypeField = 11;
    private const int DefaultSampleTypeField = 14;
    private const int ValueTypeTypeField = 1;
    private const int ValueTypeUnitField = 2;
    private const int SampleValueField = 2;

    /// <summary>
    /// Reads the totals of a profile.proto, gzip-compressed or not; false when the data is not one (it may be in a
    /// legacy format, or damaged), and the caller then decodes it in full.
    /// </summary>
    public static bool TryRead(ReadOnlyMemory<byte> data, long maxDecompressedBytes, out ProfileTotals? totals)
    {
        totals = null;
        if (data.Length >= 2 && data.Span[0] == 0x1f && data.Span[1] == 0x8b)
        {
            var inflated = Inflate(data, maxDecompressedBytes, out var length);
            if (inflated is null)
            {
                return false;
            }

            try
            {
                return TryScan(inflated.AsSpan(0, length), out totals);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(inflated);
            }
        }

        return TryScan(data.Span, out totals);
    }

    /// <summary>
    /// The totals of stored profile bytes: read without building the profile when they are a profile.proto, else
    /// (legacy formats) from the decoded profile; null when the bytes do not decode.
    /// </summary>
    public static ProfileTotals? Read(ReadOnlyMemory<byte> data, ProfileDecoderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (TryRead(data, options.MaxDecompressedBytes, out var totals) && totals is not null)
        {
            return totals;
        }

        try
        {
            var profile = ProfileDecoder.Decode(data.Span, options);
            var sums = new long[profile.SampleTypes.Count];
            for (var i = 0; i < sums.Length; i++)
            {
                sums[i] = SampleTypeIndex.Total(profile, i);
            }

            return new ProfileTotals([.. profile.SampleTypes], sums, profile.DefaultSampleType) { PeriodType = profile.PeriodType };
        }
        catch (ProfileFormatException)
        {
            return null;
        }
    }

    private static byte[]? Inflate(ReadOnlyMemory<byte> data, long maxBytes, out int length)
    {
        length = 0;
        var compressed = MemoryMarshal.TryGetArray(data, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);
        using var gzip = new GZipStream(compressed, CompressionMode.Decompress);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(data.Length * 4, 4096));
        try
        {
            while (true)
            {
                var read = gzip.Read(buffer, length, buffer.Length - length);
                if (read == 0)
                {
                    return buffer;
                }

                length += read;
                if (length > maxBytes)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return null;
                }

                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
        }
        catch (InvalidDataException)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return null;
        }
    }

    private static bool TryScan(ReadOnlySpan<byte> proto, out ProfileTotals? totals)
    {
        totals = null;
        var typeNames = new List<(long Type, long Unit)>();
        var sums = new List<long>();
        var strings = new List<Range>();
        long defaultType = 0;
        (long Type, long Unit)? periodNames = null;
        var reader = new ProtoReader(proto);
        while (!reader.AtEnd)
        {
            if (!reader.TryReadTag(out var field, out var wireType))
            {
                return false;
            }

            switch (field, wireType)
            {
                case (SampleTypeField, 2):
                    if (!reader.TryReadLength(out var valueType) || !TryReadValueType(proto[valueType], out var names))
                    {
                        return false;
                    }

                    typeNames.Add(names);
                    sums.Add(0);
                    break;
                case (SampleField, 2):
                    if (!reader.TryReadLength(out var sample) || !TryAddValues(proto[sample], sums))
                    {
                        return false;
                    }

                    break;
                case (StringTableField, 2):
                    if (!reader.TryReadLength(out var text))
                    {
                        return false;
                    }

                    strings.Add(text);
                    break;
                case (PeriodTypeField, 2):
                    if (!reader.TryReadLength(out var periodType) || !TryReadValueType(proto[periodType], out var period))
                    {
                        return false;
                    }

                    periodNames = period;
                    break;
                case (DefaultSampleTypeField, 0):
                    if (!reader.TryReadVarint(out var index))
                    {
                        return false;
                    }

                    defaultType = (long)index;
                    break;
                default:
                    if (!reader.TrySkip(wireType))
                    {
                        return false;
                    }

                    break;
            }
        }

        var types = new SampleType[typeNames.Count];
        for (var i = 0; i < types.Length; i++)
        {
            if (!TryString(proto, strings, typeNames[i].Type, out var type) || !TryString(proto, strings, typeNames[i].Unit, out var unit))
            {
                return false;
            }

            types[i] = new SampleType(type, unit);
        }

        if (!TryString(proto, strings, defaultType, out var defaultName))
        {
            return false;
        }

        SampleType? periodSampleType = null;
        if (periodNames is { } periodIndex)
        {
            if (!TryString(proto, strings, periodIndex.Type, out var periodTypeName) || !TryString(proto, strings, periodIndex.Unit, out var periodUnit))
            {
                return false;
            }

            periodSampleType = new SampleType(periodTypeName, periodUnit);
        }

        totals = new ProfileTotals(types, [.. sums], defaultName) { PeriodType = periodSampleType };
        return true;
    }

    private static bool TryReadValueType(ReadOnlySpan<byte> message, out (long Type, long Unit) names)
    {
        names = default;
        var reader = new ProtoReader(message);
        while (!reader.AtEnd)
        {
            if (!reader.TryReadTag(out var field, out var wireType))
            {
                return false;
            }

            if (wireType == 0 && field is ValueTypeTypeField or ValueTypeUnitField)
            {
                if (!reader.TryReadVarint(out var value))
                {
                    return false;
                }

                names = field == ValueTypeTypeField ? (Type: (long)value, names.Unit) : (names.Type, Unit: (long)value);
            }
            else if (!reader.TrySkip(wireType))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Adds one sample's values (packed or not) to the running sums, one per sample type.</summary>
    private static bool TryAddValues(ReadOnlySpan<byte> message, List<long> sums)
    {
        var reader = new ProtoReader(message);
        var index = 0;
        var values = CollectionsMarshal.AsSpan(sums);
        while (!reader.AtEnd)
        {
            if (!reader.TryReadTag(out var field, out var wireType))
            {
                return false;
            }

            if (field == SampleValueField && wireType == 2)
            {
                if (!reader.TryReadLength(out var packed))
                {
                    return false;
                }

                var inner = new ProtoReader(message[packed]);
                while (!inner.AtEnd)
                {
                    if (!inner.TryReadVarint(out var value))
                    {
                        return false;
                    }

                    if (index < values.Length)
                    {
                        values[index] += (long)value;
                    }

                    index++;
                }
            }
            else if (field == SampleValueField && wireType == 0)
            {
                if (!reader.TryReadVarint(out var value))
                {
                    return false;
                }

                if (index < values.Length)
                {
                    values[index] += (long)value;
                }

                index++;
            }
            else if (!reader.TrySkip(wireType))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryString(ReadOnlySpan<byte> proto, List<Range> strings, long index, out string text)
    {
        text = "";
        if (index < 0 || index >= strings.Count)
        {
            // Index 0 is the empty string even in a table that leaves it out.
            return index == 0;
        }

        text = System.Text.Encoding.UTF8.GetString(proto[strings[(int)index]]);
        return true;
    }

    /// <summary>Protocol-buffer wire format, just what reading these fields needs.</summary>
    private ref struct ProtoReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly bool AtEnd => _position >= _data.Length;

        public bool TryReadTag(out int field, out int wireType)
        {
            field = 0;
            wireType = 0;
            if (!TryReadVarint(out var tag) || tag >> 3 is 0 or > int.MaxValue)
            {
                return false;
            }

            field = (int)(tag >> 3);
            wireType = (int)(tag & 7);
            return true;
        }

        public bool TryReadVarint(out ulong value)
        {
            value = 0;
            for (var shift = 0; shift < 64 && _position < _data.Length; shift += 7)
            {
                var b = _data[_position++];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>Reads a length-delimited field's length and returns where its bytes are.</summary>
        public bool TryReadLength(out Range range)
        {
            range = default;
            if (!TryReadVarint(out var length) || length > (ulong)(_data.Length - _position))
            {
                return false;
            }

            range = new Range(_position, _position + (int)length);
            _position += (int)length;
            return true;
        }

        public bool TrySkip(int wireType)
        {
            switch (wireType)
            {
                case 0:
                    return TryReadVarint(out _);
                case 1:
                    _position += 8;
                    return _position <= _data.Length;
                case 2:
                    return TryReadLength(out _);
                case 5:
                    _position += 4;
                    return _position <= _data.Length;
                default:
                    return false;
            }
        }
    }
}
