using System.Runtime.InteropServices;
using System.Text;

namespace Profefe.Pprof.Proto;

/// <summary>
/// Decodes profile.proto into the <see cref="Profile"/> model.
/// </summary>
/// <remarks>
/// The top-level message is walked several times (strings, then tables, then locations, then samples)
/// because references point forward and backward: Go writes samples before the locations they use and
/// the string table after everything. Each walk only reads top-level keys and lengths of the fields it
/// does not want, so the extra walks are cheap; every walk is linear in the input.
///
/// Wire-format problems throw <see cref="ProtoWireException"/> (the caller then tries the legacy formats,
/// as Go's profile.ParseData does). A reference that cannot be resolved is not a wire problem: the first
/// one is kept in <see cref="Problem"/> and reported as "malformed profile" once decoding is complete.
/// </remarks>
internal sealed class ProfileProtoReader(ProfileStringPool? stringPool = null)
{
    private string[] _strings = [];

    // Scratch space reused for every sample and location, so decoding allocates only the model itself.
    private ulong[] _scratchIds = new ulong[64];
    private long[] _scratchValues = new long[16];
    private RawLabel[] _scratchLabels = new RawLabel[8];
    private RawLine[] _scratchLines = new RawLine[8];

    private List<Mapping> _mappings = [];
    private List<Function> _functions = [];
    private List<Location> _locations = [];
    private IdIndex? _mappingIndex;
    private IdIndex? _functionIndex;
    private IdIndex? _locationIndex;
    private readonly Dictionary<string, LabelSlot> _labelSlots = new(StringComparer.Ordinal);

    /// <summary>The first unresolvable reference, worded for "malformed profile: …"; null when all resolved.</summary>
    public string? Problem { get; private set; }

    public Profile Read(ReadOnlySpan<byte> data)
    {
        // Walk 1: validate the top-level structure, count the repeated fields, read the scalars.
        int sampleTypeCount = 0, sampleCount = 0, mappingCount = 0, locationCount = 0, functionCount = 0, stringCount = 0;
        long dropFramesX = 0, keepFramesX = 0, defaultSampleTypeX = 0, docUrlX = 0;
        long timeNanos = 0, durationNanos = 0, period = 0;
        long periodTypeX = 0, periodUnitX = 0;
        var hasPeriodType = false;
        List<long>? commentXs = null;

        var reader = new ProtoReader(data);
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            switch (field)
            {
                case 1:
                    SkipMessage(ref reader, wireType);
                    sampleTypeCount++;
                    break;
                case 2:
                    SkipMessage(ref reader, wireType);
                    sampleCount++;
                    break;
                case 3:
                    SkipMessage(ref reader, wireType);
                    mappingCount++;
                    break;
                case 4:
                    SkipMessage(ref reader, wireType);
                    locationCount++;
                    break;
                case 5:
                    SkipMessage(ref reader, wireType);
                    functionCount++;
                    break;
                case 6:
                    SkipMessage(ref reader, wireType);
                    stringCount++;
                    break;
                case 7:
                    dropFramesX = ReadInt64(ref reader, wireType);
                    break;
                case 8:
                    keepFramesX = ReadInt64(ref reader, wireType);
                    break;
                case 9:
                    // Go's decoder takes a second time_nanos as a sign of two profiles written back to back.
                    var time = ReadInt64(ref reader, wireType);
                    if (timeNanos != 0)
                    {
                        throw new ProtoWireException(ProtoFailure.Concatenated, "concatenated profiles detected");
                    }

                    timeNanos = time;
                    break;
                case 10:
                    durationNanos = ReadInt64(ref reader, wireType);
                    break;
                case 11:
                    ProtoReader.ExpectWireType(wireType, WireType.LengthDelimited);
                    (periodTypeX, periodUnitX) = ReadValueType(reader.ReadBytes());
                    hasPeriodType = true;
                    break;
                case 12:
                    period = ReadInt64(ref reader, wireType);
                    break;
                case 13:
                    commentXs ??= [];
                    if (wireType == WireType.LengthDelimited)
                    {
                        var packed = new ProtoReader(reader.ReadBytes());
                        while (!packed.End)
                        {
                            commentXs.Add(packed.ReadInt64());
                        }
                    }
                    else
                    {
                        commentXs.Add(ReadInt64(ref reader, wireType));
                    }

                    break;
                case 14:
                    defaultSampleTypeX = ReadInt64(ref reader, wireType);
                    break;
                case 15:
                    docUrlX = ReadInt64(ref reader, wireType);
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        ReadStrings(data, stringCount);

        var profile = new Profile
        {
            DropFrames = String(dropFramesX, "drop_frames"),
            KeepFrames = String(keepFramesX, "keep_frames"),
            TimeNanos = timeNanos,
            DurationNanos = durationNanos,
            Period = period,
            DefaultSampleType = String(defaultSampleTypeX, "default_sample_type"),
            DocUrl = String(docUrlX, "doc_url"),
        };
        if (hasPeriodType)
        {
            profile.PeriodType = new SampleType(String(periodTypeX, "period_type"), String(periodUnitX, "period_type"));
        }

        if (commentXs is not null)
        {
            foreach (var commentX in commentXs)
            {
                profile.Comments.Add(String(commentX, "comment"));
            }
        }

        _mappings = profile.Mappings;
        _functions = profile.Functions;
        _locations = profile.Locations;
        profile.SampleTypes.Capacity = sampleTypeCount;
        _mappings.Capacity = mappingCount;
        _functions.Capacity = functionCount;
        _locations.Capacity = locationCount;
        profile.Samples.Capacity = sampleCount;

        // Walk 3: the tables that refer only to strings.
        reader = new ProtoReader(data);
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            switch (field)
            {
                case 1:
                    var (typeX, unitX) = ReadValueType(reader.ReadBytes());
                    profile.SampleTypes.Add(new SampleType(String(typeX, "sample_type"), String(unitX, "sample_type")));
                    break;
                case 3:
                    _mappings.Add(ReadMapping(reader.ReadBytes()));
                    break;
                case 5:
                    _functions.Add(ReadFunction(reader.ReadBytes()));
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        _mappingIndex = BuildIndex(_mappings, static m => m.Id);
        _functionIndex = BuildIndex(_functions, static f => f.Id);

        // Walk 4: locations, which refer to mappings and functions.
        reader = new ProtoReader(data);
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            if (field == 4)
            {
                _locations.Add(ReadLocation(reader.ReadBytes()));
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        _locationIndex = BuildIndex(_locations, static l => l.Id);

        // Walk 5: samples, which refer to locations.
        reader = new ProtoReader(data);
        var samples = profile.Samples;
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            if (field == 2)
            {
                samples.Add(ReadSample(reader.ReadBytes(), samples.Count));
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        return profile;
    }

    private static IdIndex BuildIndex<T>(List<T> table, Func<T, ulong> id)
    {
        var ids = table.Count <= 256 ? stackalloc ulong[table.Count] : new ulong[table.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = id(table[i]);
        }

        return new IdIndex(ids);
    }

    private void ReadStrings(ReadOnlySpan<byte> data, int count)
    {
        // Go rejects a table that does not start with "": without it the data is not a profile at all.
        if (count == 0)
        {
            throw new ProtoWireException("string table is empty");
        }

        var strings = new string[count];
        var next = 0;
        var reader = new ProtoReader(data);
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            if (field == 6)
            {
                var bytes = reader.ReadBytes();
                strings[next++] = bytes.IsEmpty ? "" : stringPool?.GetOrAdd(bytes) ?? Encoding.UTF8.GetString(bytes);
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        if (strings[0].Length != 0)
        {
            throw new ProtoWireException("string_table[0] must be ''");
        }

        _strings = strings;
    }

    private string String(long index, string what)
    {
        var strings = _strings;
        if ((ulong)index < (ulong)strings.Length)
        {
            return strings[index];
        }

        throw new ProtoWireException(
            ProtoFailure.StringIndex,
            $"{what} refers to string index {index}, but the string table has {strings.Length} entries");
    }

    private static void SkipMessage(ref ProtoReader reader, WireType wireType)
    {
        ProtoReader.ExpectWireType(wireType, WireType.LengthDelimited);
        reader.ReadBytes();
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

    private Mapping ReadMapping(ReadOnlySpan<byte> data)
    {
        var mapping = new Mapping();
        long fileX = 0, buildIdX = 0;
        var reader = new ProtoReader(data);
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            switch (field)
            {
                case 1:
                    mapping.Id = reader.ReadVarint(wireType);
                    break;
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
                    fileX = ReadInt64(ref reader, wireType);
                    break;
                case 6:
                    buildIdX = ReadInt64(ref reader, wireType);
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

        mapping.File = String(fileX, "mapping file");
        mapping.BuildId = String(buildIdX, "mapping build_id");
        return mapping;
    }

    private Function ReadFunction(ReadOnlySpan<byte> data)
    {
        var function = new Function();
        long nameX = 0, systemNameX = 0, filenameX = 0;
        var reader = new ProtoReader(data);
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            switch (field)
            {
                case 1:
                    function.Id = reader.ReadVarint(wireType);
                    break;
                case 2:
                    nameX = ReadInt64(ref reader, wireType);
                    break;
                case 3:
                    systemNameX = ReadInt64(ref reader, wireType);
                    break;
                case 4:
                    filenameX = ReadInt64(ref reader, wireType);
                    break;
                case 5:
                    function.StartLine = ReadInt64(ref reader, wireType);
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        function.Name = String(nameX, "function name");
        function.SystemName = String(systemNameX, "function system_name");
        function.Filename = String(filenameX, "function filename");
        return function;
    }

    private Location ReadLocation(ReadOnlySpan<byte> data)
    {
        var location = new Location();
        ulong mappingId = 0;
        var lineCount = 0;
        var reader = new ProtoReader(data);
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            switch (field)
            {
                case 1:
                    location.Id = reader.ReadVarint(wireType);
                    break;
                case 2:
                    mappingId = reader.ReadVarint(wireType);
                    break;
                case 3:
                    location.Address = reader.ReadVarint(wireType);
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
                    location.IsFolded = reader.ReadVarint(wireType) != 0;
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        // mapping_id 0 means "no mapping" unless a mapping really has id 0 (some profilers number from 0).
        // An id that matches no mapping leaves the location unmapped, as Go's decoder does.
        var mappingPosition = _mappingIndex!.Find(mappingId);
        if (mappingPosition >= 0)
        {
            location.Mapping = _mappings[mappingPosition];
        }
        else if (mappingPosition == IdIndex.Ambiguous)
        {
            Report($"multiple mappings with same id: {mappingId}");
        }

        if (lineCount > 0)
        {
            var lines = new Line[lineCount];
            for (var i = 0; i < lineCount; i++)
            {
                ref readonly var raw = ref _scratchLines[i];
                var position = _functionIndex!.Find(raw.FunctionId);
                if (position >= 0)
                {
                    lines[i] = new Line(_functions[position], raw.Line, raw.Column);
                }
                else
                {
                    Report(position == IdIndex.Ambiguous
                        ? $"multiple functions with same id: {raw.FunctionId}"
                        : $"location id: {location.Id} has a line with unknown function id {raw.FunctionId}");
                }
            }

            location.Lines = lines;
        }

        return location;
    }

    private static RawLine ReadLine(ReadOnlySpan<byte> data)
    {
        var line = default(RawLine);
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

    private Sample ReadSample(ReadOnlySpan<byte> data, int sampleIndex)
    {
        int idCount = 0, valueCount = 0, labelCount = 0;
        var reader = new ProtoReader(data);
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
                            AddId(ref idCount, packed.ReadVarint());
                        }
                    }
                    else
                    {
                        AddId(ref idCount, reader.ReadVarint(wireType));
                    }

                    break;
                case 2:
                    if (wireType == WireType.LengthDelimited)
                    {
                        var packed = new ProtoReader(reader.ReadBytes());
                        while (!packed.End)
                        {
                            AddValue(ref valueCount, packed.ReadInt64());
                        }
                    }
                    else
                    {
                        AddValue(ref valueCount, ReadInt64(ref reader, wireType));
                    }

                    break;
                case 3:
                    ProtoReader.ExpectWireType(wireType, WireType.LengthDelimited);
                    if (labelCount == _scratchLabels.Length)
                    {
                        Array.Resize(ref _scratchLabels, labelCount * 2);
                    }

                    _scratchLabels[labelCount++] = ReadLabel(reader.ReadBytes());
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        var sample = new Sample();
        if (idCount > 0)
        {
            var locations = new Location[idCount];
            var index = _locationIndex!;
            for (var i = 0; i < idCount; i++)
            {
                var id = _scratchIds[i];
                var position = index.Find(id);
                if (position >= 0)
                {
                    locations[i] = _locations[position];
                }
                else
                {
                    Report(position == IdIndex.Ambiguous
                        ? $"multiple locations with same id: {id}"
                        : $"sample {sampleIndex} has unknown location id {id}");
                }
            }

            sample.Locations = locations;
        }

        if (valueCount > 0)
        {
            sample.Values = _scratchValues.AsSpan(0, valueCount).ToArray();
        }

        if (labelCount > 0)
        {
            AddLabels(sample, _scratchLabels.AsSpan(0, labelCount));
        }

        return sample;
    }

    private void AddId(ref int count, ulong id)
    {
        if (count == _scratchIds.Length)
        {
            Array.Resize(ref _scratchIds, count * 2);
        }

        _scratchIds[count++] = id;
    }

    private void AddValue(ref int count, long value)
    {
        if (count == _scratchValues.Length)
        {
            Array.Resize(ref _scratchValues, count * 2);
        }

        _scratchValues[count++] = value;
    }

    private static RawLabel ReadLabel(ReadOnlySpan<byte> data)
    {
        var label = default(RawLabel);
        var reader = new ProtoReader(data);
        while (!reader.End)
        {
            var field = reader.ReadTag(out var wireType);
            switch (field)
            {
                case 1:
                    label.KeyX = ReadInt64(ref reader, wireType);
                    break;
                case 2:
                    label.StrX = ReadInt64(ref reader, wireType);
                    break;
                case 3:
                    label.Num = ReadInt64(ref reader, wireType);
                    break;
                case 4:
                    label.UnitX = ReadInt64(ref reader, wireType);
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        return label;
    }

    // Go's rules: a label with a string value is a string label; otherwise it is numeric when it has a
    // number or a unit; a label with neither is dropped. Labels group by key string, values in order.
    // A key with a unit on any of its numbers gets a unit list parallel to the numbers, "" where a number
    // had none. Two passes (count, then fill) keep this linear however many values a key has.
    private void AddLabels(Sample sample, ReadOnlySpan<RawLabel> labels)
    {
        if (labels.Length <= 8 && AddDistinctLabels(sample, labels))
        {
            return;
        }

        var slots = _labelSlots;
        slots.Clear();
        foreach (ref readonly var label in labels)
        {
            var key = String(label.KeyX, "label key");
            if (label.StrX != 0)
            {
                String(label.StrX, "label str");
                CollectionsMarshal.GetValueRefOrAddDefault(slots, key, out _).StringCount++;
            }
            else if (label.Num != 0 || label.UnitX != 0)
            {
                ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(slots, key, out _);
                slot.NumberCount++;
                if (label.UnitX != 0)
                {
                    String(label.UnitX, "label num_unit");
                    slot.HasUnit = true;
                }
            }
        }

        foreach (ref readonly var label in labels)
        {
            var key = _strings[label.KeyX];
            if (label.StrX != 0)
            {
                ref var slot = ref CollectionsMarshal.GetValueRefOrNullRef(slots, key);
                slot.Strings ??= new string[slot.StringCount];
                slot.Strings[slot.StringFill++] = _strings[label.StrX];
            }
            else if (label.Num != 0 || label.UnitX != 0)
            {
                ref var slot = ref CollectionsMarshal.GetValueRefOrNullRef(slots, key);
                slot.Numbers ??= new long[slot.NumberCount];
                if (slot.HasUnit)
                {
                    if (slot.Units is null)
                    {
                        slot.Units = new string[slot.NumberCount];
                        slot.Units.AsSpan().Fill("");
                    }

                    slot.Units[slot.NumberFill] = _strings[label.UnitX];
                }

                slot.Numbers[slot.NumberFill++] = label.Num;
            }
        }

        foreach (var (key, slot) in slots)
        {
            if (slot.Strings is { } strings)
            {
                sample.Labels ??= new Dictionary<string, string[]>(StringComparer.Ordinal);
                sample.Labels[key] = strings;
            }

            if (slot.Numbers is { } numbers)
            {
                sample.NumLabels ??= new Dictionary<string, long[]>(StringComparer.Ordinal);
                sample.NumLabels[key] = numbers;
                if (slot.Units is { } units)
                {
                    sample.NumUnits ??= new Dictionary<string, string[]>(StringComparer.Ordinal);
                    sample.NumUnits[key] = units;
                }
            }
        }
    }

    // The common case (every key once, as Go's runtime writes labels) without the grouping dictionary.
    private bool AddDistinctLabels(Sample sample, ReadOnlySpan<RawLabel> labels)
    {
        Span<int> keep = stackalloc int[labels.Length];
        int stringCount = 0, numberCount = 0, unitCount = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            ref readonly var label = ref labels[i];
            var key = String(label.KeyX, "label key");
            for (var j = 0; j < i; j++)
            {
                if (keep[j] != 0 && string.Equals(_strings[labels[j].KeyX], key, StringComparison.Ordinal))
                {
                    return false;
                }
            }

            if (label.StrX != 0)
            {
                String(label.StrX, "label str");
                keep[i] = 1;
                stringCount++;
            }
            else if (label.Num != 0 || label.UnitX != 0)
            {
                keep[i] = 2;
                numberCount++;
                if (label.UnitX != 0)
                {
                    String(label.UnitX, "label num_unit");
                    unitCount++;
                }
            }
        }

        var strings = stringCount == 0 ? null : new Dictionary<string, string[]>(stringCount, StringComparer.Ordinal);
        var numbers = numberCount == 0 ? null : new Dictionary<string, long[]>(numberCount, StringComparer.Ordinal);
        var units = unitCount == 0 ? null : new Dictionary<string, string[]>(unitCount, StringComparer.Ordinal);
        for (var i = 0; i < labels.Length; i++)
        {
            ref readonly var label = ref labels[i];
            if (keep[i] == 1)
            {
                strings![_strings[label.KeyX]] = [_strings[label.StrX]];
            }
            else if (keep[i] == 2)
            {
                numbers![_strings[label.KeyX]] = [label.Num];
                if (label.UnitX != 0)
                {
                    units![_strings[label.KeyX]] = [_strings[label.UnitX]];
                }
            }
        }

        sample.Labels = strings;
        sample.NumLabels = numbers;
        sample.NumUnits = units;
        return true;
    }

    private void Report(string problem) => Problem ??= problem;

    private struct RawLine
    {
        public ulong FunctionId;
        public long Line;
        public long Column;
    }

    private struct LabelSlot
    {
        public int StringCount;
        public int NumberCount;
        public bool HasUnit;
        public int StringFill;
        public int NumberFill;
        public string[]? Strings;
        public long[]? Numbers;
        public string[]? Units;
    }

    private struct RawLabel
    {
        public long KeyX;
        public long StrX;
        public long Num;
        public long UnitX;
    }
}
