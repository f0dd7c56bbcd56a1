using System.IO.Compression;
using Profefe.Pprof.Proto;

namespace Profefe.Pprof;

/// <summary>Writes profiles as profile.proto, gzip-compressed by default, the way go tool pprof reads them.</summary>
public static class ProfileEncoder
{
    public static void Encode(Profile profile, Stream destination, bool compress = true)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(destination);
        using var writer = new ProtoWriter();
        new ProfileProtoWriter(profile, writer).Write();
        if (!compress)
        {
            destination.Write(writer.WrittenSpan);
            return;
        }

        // Fastest: profiles are written on every upload and merge; the size gain of higher levels is small
        // next to their cost (see bench/Profefe.Benchmarks EncodeBenchmarks).
        using var gzip = new GZipStream(destination, CompressionLevel.Fastest, leaveOpen: true);
        gzip.Write(writer.WrittenSpan);
    }

    public static byte[] EncodeToArray(Profile profile, bool compress = true)
    {
        using var buffer = new MemoryStream();
        Encode(profile, buffer, compress);
        return buffer.ToArray();
    }

    /// <summary>Raw profile.proto bytes into a pooled writer (no gzip); for callers that compress themselves.</summary>
    internal static void EncodeRaw(Profile profile, ProtoWriter writer) => new ProfileProtoWriter(profile, writer).Write();

    /// <summary>
    /// One encoding. Strings are numbered in first-use order, in the same order Go's encoder adds them
    /// (sample types, labels, mappings, functions, then the profile's own strings), so equal models give
    /// equal bytes.
    /// </summary>
    private sealed class ProfileProtoWriter(Profile profile, ProtoWriter writer)
    {
        private readonly Dictionary<string, long> _stringIndex = new(StringComparer.Ordinal) { [""] = 0 };
        private readonly List<string> _strings = [""];
        private string[] _keys = new string[8];
        private ulong[] _ids = new ulong[64];
        private IdMap<Mapping>? _mappingIds;
        private IdMap<Function>? _functionIds;
        private IdMap<Location>? _locationIds;

        public void Write()
        {
            // Ids are written as the model has them; a table with a 0 or repeated id (which go tool pprof
            // rejects) is written with ids 1..N in table order instead.
            _mappingIds = IdMap<Mapping>.Create(profile.Mappings, static m => m.Id);
            _functionIds = IdMap<Function>.Create(profile.Functions, static f => f.Id);
            _locationIds = IdMap<Location>.Create(profile.Locations, static l => l.Id);

            foreach (var sampleType in profile.SampleTypes)
            {
                WriteValueType(1, sampleType);
            }

            foreach (var sample in profile.Samples)
            {
                WriteSample(sample);
            }

            foreach (var mapping in profile.Mappings)
            {
                WriteMapping(mapping);
            }

            foreach (var location in profile.Locations)
            {
                WriteLocation(location);
            }

            foreach (var function in profile.Functions)
            {
                WriteFunction(function);
            }

            var dropFramesX = AddString(profile.DropFrames);
            var keepFramesX = AddString(profile.KeepFrames);
            long periodTypeX = 0, periodUnitX = 0;
            if (profile.PeriodType is { } periodType)
            {
                periodTypeX = AddString(periodType.Type);
                periodUnitX = AddString(periodType.Unit);
            }

            var commentXs = profile.Comments.Count == 0 ? [] : new long[profile.Comments.Count];
            for (var i = 0; i < commentXs.Length; i++)
            {
                commentXs[i] = AddString(profile.Comments[i]);
            }

            var defaultSampleTypeX = AddString(profile.DefaultSampleType);
            var docUrlX = AddString(profile.DocUrl);

            foreach (var value in _strings)
            {
                writer.WriteString(6, value);
            }

            writer.WriteInt64Optional(7, dropFramesX);
            writer.WriteInt64Optional(8, keepFramesX);
            writer.WriteInt64Optional(9, profile.TimeNanos);
            writer.WriteInt64Optional(10, profile.DurationNanos);
            if (profile.PeriodType is not null)
            {
                var start = writer.BeginMessage(11);
                writer.WriteInt64Optional(1, periodTypeX);
                writer.WriteInt64Optional(2, periodUnitX);
                writer.EndMessage(start);
            }

            writer.WriteInt64Optional(12, profile.Period);
            writer.WriteRepeated(13, commentXs);
            writer.WriteInt64Optional(14, defaultSampleTypeX);
            writer.WriteInt64Optional(15, docUrlX);
        }

        private long AddString(string? value)
        {
            if (string.IsNullOrEmpty(value))
            {
                return 0;
            }

            if (!_stringIndex.TryGetValue(value, out var index))
            {
                index = _strings.Count;
                _stringIndex.Add(value, index);
                _strings.Add(value);
            }

            return index;
        }

        private void WriteValueType(int field, SampleType type)
        {
            var start = writer.BeginMessage(field);
            writer.WriteInt64Optional(1, AddString(type.Type));
            writer.WriteInt64Optional(2, AddString(type.Unit));
            writer.EndMessage(start);
        }

        private void WriteSample(Sample sample)
        {
            var start = writer.BeginMessage(2);
            var locations = sample.Locations;
            if (_ids.Length < locations.Length)
            {
                _ids = new ulong[Math.Max(locations.Length, _ids.Length * 2)];
            }

            for (var i = 0; i < locations.Length; i++)
            {
                _ids[i] = _locationIds!.IdOf(locations[i]);
            }

            writer.WriteRepeated(1, _ids.AsSpan(0, locations.Length));
            writer.WriteRepeated(2, sample.Values);

            if (sample.Labels is { Count: > 0 } labels)
            {
                var count = SortedKeys(labels.Keys);
                for (var k = 0; k < count; k++)
                {
                    var key = _keys[k];
                    foreach (var value in labels[key])
                    {
                        WriteLabel(AddString(key), AddString(value), 0, 0);
                    }
                }
            }

            if (sample.NumLabels is { Count: > 0 } numLabels)
            {
                var count = SortedKeys(numLabels.Keys);
                for (var k = 0; k < count; k++)
                {
                    var key = _keys[k];
                    var keyX = AddString(key);
                    var units = sample.NumUnits?.GetValueOrDefault(key);
                    var numbers = numLabels[key];
                    for (var i = 0; i < numbers.Length; i++)
                    {
                        var unitX = units is { Length: > 0 } && i < units.Length ? AddString(units[i]) : 0;
                        WriteLabel(keyX, 0, numbers[i], unitX);
                    }
                }
            }

            writer.EndMessage(start);
        }

        private int SortedKeys(Dictionary<string, string[]>.KeyCollection keys) => SortKeys(keys, keys.Count);

        private int SortedKeys(Dictionary<string, long[]>.KeyCollection keys) => SortKeys(keys, keys.Count);

        // Go sorts label keys before writing them; ordinal order matches Go's byte-wise string order.
        private int SortKeys(IEnumerable<string> keys, int count)
        {
            if (_keys.Length < count)
            {
                _keys = new string[Math.Max(count, _keys.Length * 2)];
            }

            var i = 0;
            foreach (var key in keys)
            {
                _keys[i++] = key;
            }

            Array.Sort(_keys, 0, count, StringComparer.Ordinal);
            return count;
        }

        private void WriteLabel(long keyX, long strX, long num, long unitX)
        {
            var start = writer.BeginMessage(3);
            writer.WriteInt64Optional(1, keyX);
            writer.WriteInt64Optional(2, strX);
            writer.WriteInt64Optional(3, num);
            writer.WriteInt64Optional(4, unitX);
            writer.EndMessage(start);
        }

        private void WriteMapping(Mapping mapping)
        {
            var start = writer.BeginMessage(3);
            writer.WriteUInt64Optional(1, _mappingIds!.IdOf(mapping));
            writer.WriteUInt64Optional(2, mapping.Start);
            writer.WriteUInt64Optional(3, mapping.Limit);
            writer.WriteUInt64Optional(4, mapping.Offset);
            writer.WriteInt64Optional(5, AddString(mapping.File));
            writer.WriteInt64Optional(6, AddString(mapping.BuildId));
            writer.WriteBoolOptional(7, mapping.HasFunctions);
            writer.WriteBoolOptional(8, mapping.HasFilenames);
            writer.WriteBoolOptional(9, mapping.HasLineNumbers);
            writer.WriteBoolOptional(10, mapping.HasInlineFrames);
            writer.EndMessage(start);
        }

        private void WriteLocation(Location location)
        {
            var start = writer.BeginMessage(4);
            writer.WriteUInt64Optional(1, _locationIds!.IdOf(location));
            if (location.Mapping is { } mapping)
            {
                writer.WriteUInt64Optional(2, _mappingIds!.IdOf(mapping));
            }

            writer.WriteUInt64Optional(3, location.Address);
            foreach (var line in location.Lines)
            {
                var lineStart = writer.BeginMessage(4);
                if (line.Function is { } function)
                {
                    writer.WriteUInt64Optional(1, _functionIds!.IdOf(function));
                }

                writer.WriteInt64Optional(2, line.LineNumber);
                writer.WriteInt64Optional(3, line.Column);
                writer.EndMessage(lineStart);
            }

            writer.WriteBoolOptional(5, location.IsFolded);
            writer.EndMessage(start);
        }

        private void WriteFunction(Function function)
        {
            var start = writer.BeginMessage(5);
            writer.WriteUInt64Optional(1, _functionIds!.IdOf(function));
            writer.WriteInt64Optional(2, AddString(function.Name));
            writer.WriteInt64Optional(3, AddString(function.SystemName));
            writer.WriteInt64Optional(4, AddString(function.Filename));
            writer.WriteInt64Optional(5, function.StartLine);
            writer.EndMessage(start);
        }
    }

    /// <summary>The id to write for each object of a table: its own, or its position + 1 when the table's ids are unusable.</summary>
    private sealed class IdMap<T>
        where T : class
    {
        private readonly Func<T, ulong> _getId;
        private readonly Dictionary<T, ulong>? _positional;

        private IdMap(Func<T, ulong> getId, Dictionary<T, ulong>? positional)
        {
            _getId = getId;
            _positional = positional;
        }

        public static IdMap<T> Create(List<T> table, Func<T, ulong> getId)
        {
            if (ProfileValidator.IdsAreValid(table, getId))
            {
                return new IdMap<T>(getId, null);
            }

            var positional = new Dictionary<T, ulong>(table.Count, ReferenceEqualityComparer.Instance);
            for (var i = 0; i < table.Count; i++)
            {
                positional.TryAdd(table[i], (ulong)i + 1);
            }

            return new IdMap<T>(getId, positional);
        }

        // An object outside the table (a model built by hand) keeps its own id, as Go's encoder would write it.
        public ulong IdOf(T item) =>
            _positional is { } positional && positional.TryGetValue(item, out var id) ? id : _getId(item);
    }
}
