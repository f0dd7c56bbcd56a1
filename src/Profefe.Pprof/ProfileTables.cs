using System.Text;
using Profefe.Pprof.Proto;

namespace Profefe.Pprof;

/// <summary>
/// One profile.proto read in place: its tables (strings, mappings, functions, locations, samples) are found
/// once and each entry is read from the bytes when asked for, without building the <see cref="Profile"/>
/// model. For a reader that turns every entry into something else at once (the engine's block cutter
/// interning symbols), this saves the model's objects, which cost more than the reading itself.
/// </summary>
/// <remarks>
/// <see cref="TryLoad"/> takes only data that <see cref="ProfileDecoder"/> would accept exactly as it is
/// (proto, not legacy; mapping, function and location ids 1..N in table order; every reference resolved; one
/// value per sample type). So an entry's id is its position + 1, and every field read here means what the
/// decoder makes of it. Anything else is refused, for the caller to decode. One instance is reused profile after
/// profile by one thread; the spans it returns hold until the next call.
/// </remarks>
public sealed class ProfileTables
{
    private readonly ProfileStringPool? _stringPool;
    private byte[] _buffer = [];
    private bool _bufferRented;
    private int _length;

    // (offset, length) of every entry of a table, in table order.
    private (int Offset, int Length)[] _strings = new (int, int)[256];
    private (int Offset, int Length)[] _sampleTypes = new (int, int)[4];
    private (int Offset, int Length)[] _mappings = new (int, int)[16];
    private (int Offset, int Length)[] _functions = new (int, int)[256];
    private (int Offset, int Length)[] _locations = new (int, int)[256];
    private (int Offset, int Length)[] _samples = new (int, int)[256];
    private string?[] _text = new string?[256];
    private long[] _comments = new long[4];
    private int _commentCount;

    private ulong[] _scratchIds = new ulong[64];
    private long[] _scratchValues = new long[16];
    private ProtoLabel[] _scratchLabels = new ProtoLabel[8];
    private ProtoLine[] _scratchLines = new ProtoLine[8];

    /// <param name="stringPool">Shares the strings <see cref="Text"/> returns with other readers; null allocates them.</param>
    public ProfileTables(ProfileStringPool? stringPool = null) => _stringPool = stringPool;

    public int StringCount { get; private set; }

    public int SampleTypeCount { get; private set; }

    public int MappingCount { get; private set; }

    public int FunctionCount { get; private set; }

    public int LocationCount { get; private set; }

    public int SampleCount { get; private set; }

    /// <summary>String indices of the period type's name and unit; null when the profile has none.</summary>
    public (long Type, long Unit)? PeriodType { get; private set; }

    public long Period { get; private set; }

    public long TimeNanos { get; private set; }

    public long DurationNanos { get; private set; }

    /// <summary>String index of drop_frames.</summary>
    public long DropFrames { get; private set; }

    /// <summary>String index of keep_frames.</summary>
    public long KeepFrames { get; private set; }

    /// <summary>String index of default_sample_type.</summary>
    public long DefaultSampleType { get; private set; }

    /// <summary>String index of doc_url.</summary>
    public long DocUrl { get; private set; }

    /// <summary>String indices of the comments, in order.</summary>
    public ReadOnlySpan<long> Comments => _comments.AsSpan(0, _commentCount);

    /// <summary>
    /// Reads <paramref name="data"/> (gzip or raw profile.proto); false when the decoder would not take it as it
    /// is (a legacy format, ids to renumber, any error or limit): decode such data with <see cref="ProfileDecoder"/>.
    /// </summary>
    public bool TryLoad(ReadOnlySpan<byte> data, ProfileDecoderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Release();
        try
        {
            if (GzipInflater.IsGzip(data))
            {
                // The budget is for requests in flight; a background reader holds one buffer at a time.
                _buffer = GzipInflater.Inflate(data, options.MaxDecompressedBytes, null, out _length);
            }
            else
            {
                _buffer = BufferPool.Rent(data.Length);
                data.CopyTo(_buffer);
                _length = data.Length;
            }

            _bufferRented = true;
            var proto = _buffer.AsSpan(0, _length);
            if (!ProfileProtoScanner.Accepts(proto, options))
            {
                Release();
                return false;
            }

            Index(proto);
            return true;
        }
        catch (Exception e) when (e is ProfileFormatException or ProtoWireException)
        {
            Release();
            return false;
        }
    }

    /// <summary>Gives the inflated bytes back to the pool; the tables are empty until the next <see cref="TryLoad"/>.</summary>
    public void Release()
    {
        if (_bufferRented)
        {
            BufferPool.Return(_buffer);
            _bufferRented = false;
        }

        _buffer = [];
        _length = 0;
        StringCount = SampleTypeCount = MappingCount = FunctionCount = LocationCount = SampleCount = 0;
    }

    /// <summary>The string at <paramref name="index"/> (checked by <see cref="TryLoad"/> for every index the profile uses).</summary>
    public string Text(long index)
    {
        var text = _text[index];
        if (text is null)
        {
            var (offset, length) = _strings[index];
            var bytes = _buffer.AsSpan(offset, length);
            text = bytes.IsEmpty ? "" : _stringPool?.GetOrAdd(bytes) ?? Encoding.UTF8.GetString(bytes);
            _text[index] = text;
        }

        return text;
    }

    /// <summary>The UTF-8 bytes of the string at <paramref name="index"/>; they hold until the next <see cref="TryLoad"/>.</summary>
    public ReadOnlySpan<byte> Utf8(long index)
    {
        var (offset, length) = _strings[index];
        return _buffer.AsSpan(offset, length);
    }

    /// <summary>String indices of sample type <paramref name="position"/>'s name and unit.</summary>
    public (long Type, long Unit) SampleType(int position)
    {
        var (offset, length) = _sampleTypes[position];
        return ReadValueType(_buffer.AsSpan(offset, length));
    }

    /// <summary>The mapping with id <paramref name="position"/> + 1.</summary>
    public ProtoMapping Mapping(int position)
    {
        var (offset, length) = _mappings[position];
        var mapping = default(ProtoMapping);
        var reader = new ProtoReader(_buffer.AsSpan(offset, length));
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            switch (field)
            {
                case 2:
                    mapping.Start = reader.ReadVarint(wireType);
                    break;
                case 3:
                    mapping.Limit = reader.ReadVarint(wireType);
                    break;
                case 4:
                    mapping.Offset = reader.ReadVarint(wireType);
                    break;
                case 5:
                    mapping.File = ReadInt64(ref reader, wireType);
                    break;
                case 6:
                    mapping.BuildId = ReadInt64(ref reader, wireType);
                    break;
                case 7:
                    mapping.HasFunctions = reader.ReadVarint(wireType) != 0;
                    break;
                case 8:
                    mapping.HasFilenames = reader.ReadVarint(wireType) != 0;
                    break;
                case 9:
                    mapping.HasLineNumbers = reader.ReadVarint(wireType) != 0;
                    break;
                case 10:
                    mapping.HasInlineFrames = reader.ReadVarint(wireType) != 0;
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        return mapping;
    }

    /// <summary>The function with id <paramref name="position"/> + 1.</summary>
    public ProtoFunction Function(int position)
    {
        var (offset, length) = _functions[position];
        var function = default(ProtoFunction);
        var reader = new ProtoReader(_buffer.AsSpan(offset, length));
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            switch (field)
            {
                case 2:
                    function.Name = ReadInt64(ref reader, wireType);
                    break;
                case 3:
                    function.SystemName = ReadInt64(ref reader, wireType);
                    break;
                case 4:
                    function.Filename = ReadInt64(ref reader, wireType);
                    break;
                case 5:
                    function.StartLine = ReadInt64(ref reader, wireType);
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        return function;
    }

    /// <summary>
    /// The location with id <paramref name="position"/> + 1. Its mapping is the one whose position is
    /// <see cref="ProtoLocation.MappingId"/> - 1 when that is within the table; any other id means none, as in the decoder.
    /// </summary>
    public ProtoLocation Location(int position)
    {
        var (offset, length) = _locations[position];
        ulong mappingId = 0, address = 0;
        var isFolded = false;
        var lineCount = 0;
        var reader = new ProtoReader(_buffer.AsSpan(offset, length));
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            switch (field)
            {
                case 2:
                    mappingId = reader.ReadVarint(wireType);
                    break;
                case 3:
                    address = reader.ReadVarint(wireType);
                    break;
                case 4:
                    ProtoReader.ExpectWireType(wireType, WireType.LengthDelimited);
                    if (lineCount == _scratchLines.Length)
                    {
                        Array.Resize(ref _scratchLines, lineCount * 2);
                    }

                    _scratchLines[lineCount++] = ReadLine(reader.ReadBytes());
                    break;
                case 5:
                    isFolded = reader.ReadVarint(wireType) != 0;
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        return new ProtoLocation(mappingId, address, isFolded, _scratchLines.AsSpan(0, lineCount));
    }

    /// <summary>Sample <paramref name="position"/>: location ids leaf first, values, raw labels in their order.</summary>
    public ProtoSample Sample(int position)
    {
        var (offset, length) = _samples[position];
        int idCount = 0, valueCount = 0, labelCount = 0;
        var reader = new ProtoReader(_buffer.AsSpan(offset, length));
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            switch (field)
            {
                case 1:
                    if (wireType == WireType.LengthDelimited)
                    {
                        var packed = new ProtoReader(reader.ReadBytes());
                        while (!packed.End)
                        {
                            Add(ref _scratchIds, ref idCount, packed.ReadVarint());
                        }
                    }
                    else
                    {
                        Add(ref _scratchIds, ref idCount, reader.ReadVarint(wireType));
                    }

                    break;
                case 2:
                    if (wireType == WireType.LengthDelimited)
                    {
                        var packed = new ProtoReader(reader.ReadBytes());
                        while (!packed.End)
                        {
                            Add(ref _scratchValues, ref valueCount, packed.ReadInt64());
                        }
                    }
                    else
                    {
                        Add(ref _scratchValues, ref valueCount, ReadInt64(ref reader, wireType));
                    }

                    break;
                case 3:
                    ProtoReader.ExpectWireType(wireType, WireType.LengthDelimited);
                    Add(ref _scratchLabels, ref labelCount, ReadLabel(reader.ReadBytes()));
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        return new ProtoSample(_scratchIds.AsSpan(0, idCount), _scratchValues.AsSpan(0, valueCount), _scratchLabels.AsSpan(0, labelCount));
    }

    // One walk over the top level: where each table's entries are, and the scalars (last one wins, as in the decoder).
    private void Index(ReadOnlySpan<byte> data)
    {
        (long, long)? periodType = null;
        long period = 0, timeNanos = 0, durationNanos = 0, dropFrames = 0, keepFrames = 0, defaultSampleType = 0, docUrl = 0;
        int strings = 0, sampleTypes = 0, mappings = 0, functions = 0, locations = 0, samples = 0;
        _commentCount = 0;
        var reader = new ProtoReader(data);
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            switch (field)
            {
                case 1:
                    Add(ref _sampleTypes, ref sampleTypes, Entry(ref reader, wireType));
                    break;
                case 2:
                    Add(ref _samples, ref samples, Entry(ref reader, wireType));
                    break;
                case 3:
                    Add(ref _mappings, ref mappings, Entry(ref reader, wireType));
                    break;
                case 4:
                    Add(ref _locations, ref locations, Entry(ref reader, wireType));
                    break;
                case 5:
                    Add(ref _functions, ref functions, Entry(ref reader, wireType));
                    break;
                case 6:
                    Add(ref _strings, ref strings, Entry(ref reader, wireType));
                    break;
                case 7:
                    dropFrames = ReadInt64(ref reader, wireType);
                    break;
                case 8:
                    keepFrames = ReadInt64(ref reader, wireType);
                    break;
                case 9:
                    timeNanos = ReadInt64(ref reader, wireType);
                    break;
                case 10:
                    durationNanos = ReadInt64(ref reader, wireType);
                    break;
                case 11:
                    ProtoReader.ExpectWireType(wireType, WireType.LengthDelimited);
                    periodType = ReadValueType(reader.ReadBytes());
                    break;
                case 12:
                    period = ReadInt64(ref reader, wireType);
                    break;
                case 13:
                    if (wireType == WireType.LengthDelimited)
                    {
                        var packed = new ProtoReader(reader.ReadBytes());
                        while (!packed.End)
                        {
                            Add(ref _comments, ref _commentCount, packed.ReadInt64());
                        }
                    }
                    else
                    {
                        Add(ref _comments, ref _commentCount, ReadInt64(ref reader, wireType));
                    }

                    break;
                case 14:
                    defaultSampleType = ReadInt64(ref reader, wireType);
                    break;
                case 15:
                    docUrl = ReadInt64(ref reader, wireType);
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        if (_text.Length < strings)
        {
            _text = new string?[Math.Max(strings, _text.Length * 2)];
        }
        else
        {
            Array.Clear(_text, 0, strings);
        }

        StringCount = strings;
        SampleTypeCount = sampleTypes;
        MappingCount = mappings;
        FunctionCount = functions;
        LocationCount = locations;
        SampleCount = samples;
        PeriodType = periodType;
        Period = period;
        TimeNanos = timeNanos;
        DurationNanos = durationNanos;
        DropFrames = dropFrames;
        KeepFrames = keepFrames;
        DefaultSampleType = defaultSampleType;
        DocUrl = docUrl;
    }

    private static (int Offset, int Length) Entry(ref ProtoReader reader, WireType wireType)
    {
        ProtoReader.ExpectWireType(wireType, WireType.LengthDelimited);
        var bytes = reader.ReadBytes();
        return (reader.Position - bytes.Length, bytes.Length);
    }

    private static void Add<T>(ref T[] array, ref int count, T value)
    {
        if (count == array.Length)
        {
            Array.Resize(ref array, Math.Max(4, count * 2));
        }

        array[count++] = value;
    }

    private static long ReadInt64(ref ProtoReader reader, WireType wireType)
    {
        ProtoReader.ExpectWireType(wireType, WireType.Varint);
        return reader.ReadInt64();
    }

    private static (long Type, long Unit) ReadValueType(ReadOnlySpan<byte> data)
    {
        long type = 0, unit = 0;
        var reader = new ProtoReader(data);
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            switch (field)
            {
                case 1:
                    type = ReadInt64(ref reader, wireType);
                    break;
                case 2:
                    unit = ReadInt64(ref reader, wireType);
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        return (type, unit);
    }

    private static ProtoLine ReadLine(ReadOnlySpan<byte> data)
    {
        var line = default(ProtoLine);
        var reader = new ProtoReader(data);
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            switch (field)
            {
                case 1:
                    line.FunctionId = reader.ReadVarint(wireType);
                    break;
                case 2:
                    line.Line = ReadInt64(ref reader, wireType);
                    break;
                case 3:
                    line.Column = ReadInt64(ref reader, wireType);
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        return line;
    }

    private static ProtoLabel ReadLabel(ReadOnlySpan<byte> data)
    {
        var label = default(ProtoLabel);
        var reader = new ProtoReader(data);
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            switch (field)
            {
                case 1:
                    label.Key = ReadInt64(ref reader, wireType);
                    break;
                case 2:
                    label.Str = ReadInt64(ref reader, wireType);
                    break;
                case 3:
                    label.Num = ReadInt64(ref reader, wireType);
                    break;
                case 4:
                    label.NumUnit = ReadInt64(ref reader, wireType);
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        return label;
    }
}

/// <summary>A mapping as stored: addresses, string indices of file and build id, flags.</summary>
public record struct ProtoMapping(ulong Start, ulong Limit, ulong Offset, long File, long BuildId, bool HasFunctions, bool HasFilenames, bool HasLineNumbers, bool HasInlineFrames);

/// <summary>A function as stored: string indices of its names and file, its start line.</summary>
public record struct ProtoFunction(long Name, long SystemName, long Filename, long StartLine);

/// <summary>A line of a location: the function's id, line and column.</summary>
public record struct ProtoLine(ulong FunctionId, long Line, long Column);

/// <summary>A sample label as stored: string indices of key, value and unit, and the number.</summary>
public record struct ProtoLabel(long Key, long Str, long Num, long NumUnit);

/// <summary>A location as stored; <see cref="Lines"/> holds until the next read of the same <see cref="ProfileTables"/>.</summary>
public readonly ref struct ProtoLocation(ulong mappingId, ulong address, bool isFolded, ReadOnlySpan<ProtoLine> lines)
{
    public ulong MappingId { get; } = mappingId;

    public ulong Address { get; } = address;

    public bool IsFolded { get; } = isFolded;

    public ReadOnlySpan<ProtoLine> Lines { get; } = lines;
}

/// <summary>A sample as stored; its spans hold until the next read of the same <see cref="ProfileTables"/>.</summary>
public readonly ref struct ProtoSample(ReadOnlySpan<ulong> locationIds, ReadOnlySpan<long> values, ReadOnlySpan<ProtoLabel> labels)
{
    /// <summary>Leaf first.</summary>
    public ReadOnlySpan<ulong> LocationIds { get; } = locationIds;

    public ReadOnlySpan<long> Values { get; } = values;

    public ReadOnlySpan<ProtoLabel> Labels { get; } = labels;
}
