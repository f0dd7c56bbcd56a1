using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Profefe.Pprof;

/// <summary>
/// Merges profiles with the semantics of Go's profile.Merge. Profiles are added one at a time so a
/// caller can stream a large merge without holding every input.
/// </summary>
/// <remarks>
/// Samples with the same stack (after locations are de-duplicated) and the same labels are summed;
/// locations, functions and mappings are de-duplicated with Go's keys; the header takes the earliest
/// time, the summed duration, the largest period and every distinct comment. Samples whose values
/// are all zero are left out, as Go does. Inputs are never changed. Not thread-safe: one merge, one thread.
/// </remarks>
public sealed class ProfileMerger
{
    // Go rounds mapping sizes up to 4 KiB so that the same binary mapped with slightly different
    // limits in two processes still merges.
    private const ulong MappingSizeRounding = 0x1000;

    private readonly List<Sample> _samples = [];
    private readonly List<Location> _locations = [];
    private readonly List<Function> _functions = [];
    private readonly List<Mapping> _mappings = [];
    private readonly List<string> _comments = [];
    private readonly HashSet<string> _seenComments = new(StringComparer.Ordinal);

    private readonly Dictionary<FunctionKey, Function> _functionsByKey = [];
    private readonly Dictionary<MappingKey, Mapping> _mappingsByKey = [];
    private readonly Dictionary<LocationKey, Location> _locationsByKey = new(LocationKeyComparer.Instance);

    // Per-input memo tables: the merged object for each input object, indexed by the input's
    // position when its id matches it (what the decoder produces), by reference otherwise.
    private Location?[] _locationMemo = [];
    private Function?[] _functionMemo = [];
    private MappedMapping[] _mappingMemo = [];
    private readonly Dictionary<Location, Location> _locationFallback = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Function, Function> _functionFallback = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Mapping, MappedMapping> _mappingFallback = new(ReferenceEqualityComparer.Instance);

    // Sample table: chained hashing over _samples, so that looking up a sample's key needs no
    // allocation; only a sample not seen before is copied.
    private int[] _buckets = new int[256];
    private int[] _next = new int[256];
    private int[] _hashes = new int[256];

    private Location[] _stack = new Location[64];
    private Line[] _lines = new Line[8];

    private SampleType[] _sampleTypes = [];
    private SampleType? _periodType;
    private string _dropFrames = "";
    private string _keepFrames = "";
    private string _defaultSampleType = "";
    private long _timeNanos;
    private long _durationNanos;
    private long _period;
    private int _added;

    /// <summary>How many profiles were added.</summary>
    public int Count => _added;

    /// <exception cref="ProfileFormatException">the profiles are not compatible; the message names the difference.</exception>
    public void Add(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (_added == 0)
        {
            _sampleTypes = [.. profile.SampleTypes];
            _periodType = profile.PeriodType;
            _dropFrames = profile.DropFrames;
            _keepFrames = profile.KeepFrames;
        }
        else
        {
            CheckCompatible(profile);
        }

        CheckValueCounts(profile);
        MergeHeader(profile);
        _added++;

        PrepareMemo(profile);
        try
        {
            var mappings = profile.Mappings;
            if (_mappings.Count == 0 && mappings.Count > 0)
            {
                // Go maps the first mapping first: by convention it is the main binary.
                MapMapping(mappings[0], profile);
            }

            foreach (var sample in CollectionsMarshal.AsSpan(profile.Samples))
            {
                if (!IsZero(sample.Values))
                {
                    MapSample(sample, profile);
                }
            }
        }
        finally
        {
            _locationFallback.Clear();
            _functionFallback.Clear();
            _mappingFallback.Clear();
        }
    }

    /// <summary>
    /// The merge of everything added so far, as a new valid profile (ids 1..N). Its samples are its own;
    /// its locations, functions and mappings are shared with later results of this merger.
    /// </summary>
    /// <exception cref="InvalidOperationException">nothing was added.</exception>
    public Profile ToProfile()
    {
        if (_added == 0)
        {
            throw new InvalidOperationException("no profiles to merge");
        }

        var result = new Profile
        {
            DefaultSampleType = _defaultSampleType,
            DropFrames = _dropFrames,
            KeepFrames = _keepFrames,
            TimeNanos = _timeNanos,
            DurationNanos = _durationNanos,
            PeriodType = _periodType,
            Period = _period,
        };
        result.SampleTypes.AddRange(_sampleTypes);
        result.Comments.AddRange(_comments);
        result.Mappings.AddRange(_mappings);
        result.Locations.AddRange(_locations);
        result.Functions.AddRange(_functions);

        var hasZero = false;
        result.Samples.Capacity = _samples.Count;
        foreach (var sample in CollectionsMarshal.AsSpan(_samples))
        {
            // Values are copied so that later Adds do not change a profile already handed out.
            result.Samples.Add(new Sample
            {
                Locations = sample.Locations,
                Values = (long[])sample.Values.Clone(),
                Labels = sample.Labels,
                NumLabels = sample.NumLabels,
                NumUnits = sample.NumUnits,
            });
            hasZero |= IsZero(sample.Values);
        }

        if (hasZero)
        {
            // Values that cancelled out (a diff) leave zero samples; merging the result alone drops
            // them and everything only they referenced, as Go does.
            var again = new ProfileMerger();
            again.Add(result);
            return again.ToProfile();
        }

        return result;
    }

    /// <summary>The merge of two parts of one answer, either of which may be missing (null when both are).</summary>
    public static Profile? Merge(Profile? first, Profile? second) => (first, second) switch
    {
        (null, var only) => only,
        (var only, null) => only,
        (var both, var and) => Merge([both, and]),
    };

    public static Profile Merge(IEnumerable<Profile> profiles)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        var merger = new ProfileMerger();
        foreach (var profile in profiles)
        {
            merger.Add(profile);
        }

        return merger.ToProfile();
    }

    private void CheckCompatible(Profile profile)
    {
        if (!SameValueType(_periodType, profile.PeriodType))
        {
            throw new ProfileFormatException(
                $"incompatible period types {FormatValueType(_periodType)} and {FormatValueType(profile.PeriodType)}");
        }

        var types = profile.SampleTypes;
        var same = types.Count == _sampleTypes.Length;
        for (var i = 0; same && i < _sampleTypes.Length; i++)
        {
            same = SameValueType(_sampleTypes[i], types[i]);
        }

        if (!same)
        {
            throw new ProfileFormatException(
                $"incompatible sample types [{string.Join(' ', (IEnumerable<SampleType>)_sampleTypes)}] and [{string.Join(' ', types)}]");
        }
    }

    private static void CheckValueCounts(Profile profile)
    {
        var want = profile.SampleTypes.Count;
        foreach (var sample in CollectionsMarshal.AsSpan(profile.Samples))
        {
            if (sample.Values.Length != want)
            {
                throw new ProfileFormatException($"mismatch: sample has {sample.Values.Length} values vs. {want} types");
            }
        }
    }

    private static bool SameValueType(SampleType? a, SampleType? b) =>
        (a?.Type ?? "") == (b?.Type ?? "") && (a?.Unit ?? "") == (b?.Unit ?? "");

    private static string FormatValueType(SampleType? type) => type is null ? "<nil>" : type.ToString();

    private void MergeHeader(Profile profile)
    {
        // The same comparisons as Go's combineHeaders, quirks included (a zero time does not stick).
        if (_timeNanos == 0 || profile.TimeNanos < _timeNanos)
        {
            _timeNanos = profile.TimeNanos;
        }

        _durationNanos += profile.DurationNanos;
        if (_period == 0 || _period < profile.Period)
        {
            _period = profile.Period;
        }

        foreach (var comment in profile.Comments)
        {
            if (_seenComments.Add(comment))
            {
                _comments.Add(comment);
            }
        }

        if (_defaultSampleType.Length == 0)
        {
            _defaultSampleType = profile.DefaultSampleType;
        }
    }

    private void PrepareMemo(Profile profile)
    {
        _locationMemo = ResetMemo(_locationMemo, profile.Locations.Count);
        _functionMemo = ResetMemo(_functionMemo, profile.Functions.Count);
        _mappingMemo = ResetMemo(_mappingMemo, profile.Mappings.Count);
    }

    private static T[] ResetMemo<T>(T[] memo, int count)
    {
        if (memo.Length < count)
        {
            return new T[Math.Max(count, memo.Length * 2)];
        }

        Array.Clear(memo, 0, count);
        return memo;
    }

    private static bool IsZero(long[] values)
    {
        foreach (var value in values)
        {
            if (value != 0)
            {
                return false;
            }
        }

        return true;
    }

    private void MapSample(Sample source, Profile profile)
    {
        var sourceLocations = source.Locations;
        if (_stack.Length < sourceLocations.Length)
        {
            _stack = new Location[Math.Max(sourceLocations.Length, _stack.Length * 2)];
        }

        var stack = _stack.AsSpan(0, sourceLocations.Length);
        var inputLocations = CollectionsMarshal.AsSpan(profile.Locations);
        var memo = _locationMemo;
        var hash = (ulong)sourceLocations.Length;
        for (var i = 0; i < sourceLocations.Length; i++)
        {
            // Inlined fast path of MapLocation: an input location already seen, found by its id.
            var sourceLocation = sourceLocations[i];
            var slot = sourceLocation.Id - 1;
            var location = slot < (ulong)inputLocations.Length && ReferenceEquals(inputLocations[(int)slot], sourceLocation)
                ? memo[(int)slot] ?? MapLocation(sourceLocation, profile)
                : MapLocation(sourceLocation, profile);
            stack[i] = location;
            hash = (hash ^ location.Id) * 0x9E3779B97F4A7C15UL;
        }

        var code = HashCode.Combine(hash, LabelHash(source.Labels), NumLabelHash(source.NumLabels));

        var samples = CollectionsMarshal.AsSpan(_samples);
        for (var index = _buckets[code & (_buckets.Length - 1)] - 1; index >= 0; index = _next[index] - 1)
        {
            var candidate = samples[index];
            if (_hashes[index] == code && SameStack(candidate.Locations, stack) && SameLabels(candidate, source))
            {
                var sum = candidate.Values;
                var values = source.Values;
                for (var v = 0; v < sum.Length; v++)
                {
                    sum[v] += values[v];
                }

                return;
            }
        }

        AddSample(source, stack, code);
    }

    private void AddSample(Sample source, ReadOnlySpan<Location> stack, int code)
    {
        var sample = new Sample
        {
            Locations = stack.ToArray(),
            Values = (long[])source.Values.Clone(),
            Labels = CopyLabels(source.Labels),
            NumLabels = CopyLabels(source.NumLabels),
            NumUnits = source.NumLabels is { Count: > 0 } ? CopyLabels(source.NumUnits) : null,
        };

        var index = _samples.Count;
        _samples.Add(sample);
        if (index >= _hashes.Length)
        {
            Array.Resize(ref _hashes, _hashes.Length * 2);
            Array.Resize(ref _next, _next.Length * 2);
        }

        _hashes[index] = code;
        if (_samples.Count > _buckets.Length)
        {
            Rehash(_buckets.Length * 2);
        }
        else
        {
            ref var head = ref _buckets[code & (_buckets.Length - 1)];
            _next[index] = head;
            head = index + 1;
        }
    }

    private void Rehash(int size)
    {
        _buckets = new int[size];
        for (var i = 0; i < _samples.Count; i++)
        {
            ref var head = ref _buckets[_hashes[i] & (size - 1)];
            _next[i] = head;
            head = i + 1;
        }
    }

    private static bool SameStack(Location[] existing, ReadOnlySpan<Location> stack)
    {
        if (existing.Length != stack.Length)
        {
            return false;
        }

        for (var i = 0; i < existing.Length; i++)
        {
            if (!ReferenceEquals(existing[i], stack[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool SameLabels(Sample merged, Sample source) =>
        SameLabelMap(merged.Labels, source.Labels)
        && SameLabelMap(merged.NumLabels, source.NumLabels)
        && (source.NumLabels is not { Count: > 0 } || SameUnits(merged.NumUnits, source.NumUnits));

    private static bool SameLabelMap<T>(Dictionary<string, T[]>? a, Dictionary<string, T[]>? b)
    {
        var countA = a?.Count ?? 0;
        var countB = b?.Count ?? 0;
        if (countA != countB)
        {
            return false;
        }

        if (countA == 0)
        {
            return true;
        }

        foreach (var (key, values) in a!)
        {
            if (!b!.TryGetValue(key, out var other) || !values.AsSpan().SequenceEqual(other))
            {
                return false;
            }
        }

        return true;
    }

    // Go keys numeric labels together with their units; a missing unit list and an empty one print alike.
    private static bool SameUnits(Dictionary<string, string[]>? a, Dictionary<string, string[]>? b)
    {
        if (a is { Count: > 0 })
        {
            foreach (var (key, units) in a)
            {
                var other = b is not null && b.TryGetValue(key, out var o) ? o : [];
                if (!units.AsSpan().SequenceEqual(other))
                {
                    return false;
                }
            }
        }

        if (b is { Count: > 0 })
        {
            foreach (var (key, units) in b)
            {
                var other = a is not null && a.TryGetValue(key, out var o) ? o : [];
                if (!units.AsSpan().SequenceEqual(other))
                {
                    return false;
                }
            }
        }

        return true;
    }

    // Order-independent, as the key is a map.
    private static int LabelHash(Dictionary<string, string[]>? labels)
    {
        if (labels is not { Count: > 0 })
        {
            return 0;
        }

        var sum = 0;
        foreach (var (key, values) in labels)
        {
            var h = key.GetHashCode(StringComparison.Ordinal);
            foreach (var value in values)
            {
                h = HashCode.Combine(h, value.GetHashCode(StringComparison.Ordinal));
            }

            sum += h;
        }

        return sum;
    }

    private static int NumLabelHash(Dictionary<string, long[]>? labels)
    {
        if (labels is not { Count: > 0 })
        {
            return 0;
        }

        var sum = 0;
        foreach (var (key, values) in labels)
        {
            var h = key.GetHashCode(StringComparison.Ordinal);
            foreach (var value in values)
            {
                h = HashCode.Combine(h, value);
            }

            sum += h;
        }

        return sum;
    }

    private static Dictionary<string, T[]>? CopyLabels<T>(Dictionary<string, T[]>? labels)
    {
        if (labels is not { Count: > 0 })
        {
            return null;
        }

        var copy = new Dictionary<string, T[]>(labels.Count, StringComparer.Ordinal);
        foreach (var (key, values) in labels)
        {
            copy[key] = (T[])values.Clone();
        }

        return copy;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SlotOf<T>(List<T> list, T item, ulong id)
        where T : class
    {
        var slot = id - 1;
        return slot < (ulong)list.Count && ReferenceEquals(list[(int)slot], item) ? (int)slot : -1;
    }

    private Location MapLocation(Location source, Profile profile)
    {
        var slot = SlotOf(profile.Locations, source, source.Id);
        if (slot >= 0)
        {
            if (_locationMemo[slot] is { } memo)
            {
                return memo;
            }
        }
        else if (_locationFallback.TryGetValue(source, out var memo))
        {
            return memo;
        }

        var location = FindOrAddLocation(source, profile);
        if (slot >= 0)
        {
            _locationMemo[slot] = location;
        }
        else
        {
            _locationFallback[source] = location;
        }

        return location;
    }

    private Location FindOrAddLocation(Location source, Profile profile)
    {
        var mapped = source.Mapping is null ? default : MapMapping(source.Mapping, profile);
        var address = (ulong)((long)source.Address + mapped.Offset);

        var sourceLines = source.Lines;
        if (_lines.Length < sourceLines.Length)
        {
            _lines = new Line[Math.Max(sourceLines.Length, _lines.Length * 2)];
        }

        for (var i = 0; i < sourceLines.Length; i++)
        {
            var line = sourceLines[i];
            var function = line.Function is null ? null : MapFunction(line.Function, profile);
            _lines[i] = new Line(function, line.LineNumber, line.Column);
        }

        // Go keys the address relative to the mapping start, so address space randomization does not split locations.
        var key = new LocationKey(
            mapped.Mapping,
            mapped.Mapping is null ? address : address - mapped.Mapping.Start,
            source.IsFolded,
            _lines,
            sourceLines.Length);
        if (_locationsByKey.TryGetValue(key, out var existing))
        {
            return existing;
        }

        var location = new Location
        {
            Id = (ulong)_locations.Count + 1,
            Mapping = mapped.Mapping,
            Address = address,
            Lines = _lines.AsSpan(0, sourceLines.Length).ToArray(),
            IsFolded = source.IsFolded,
        };
        _locations.Add(location);
        _locationsByKey.Add(key with { Lines = location.Lines }, location);
        return location;
    }

    private MappedMapping MapMapping(Mapping source, Profile profile)
    {
        var slot = SlotOf(profile.Mappings, source, source.Id);
        if (slot >= 0)
        {
            if (_mappingMemo[slot].Mapping is not null)
            {
                return _mappingMemo[slot];
            }
        }
        else if (_mappingFallback.TryGetValue(source, out var memo))
        {
            return memo;
        }

        var size = source.Limit - source.Start + MappingSizeRounding - 1;
        size -= size % MappingSizeRounding;
        var key = new MappingKey(
            size,
            source.Offset,
            source.BuildId.Length > 0 ? source.BuildId : source.File);

        MappedMapping mapped;
        if (_mappingsByKey.TryGetValue(key, out var existing))
        {
            mapped = new MappedMapping(existing, (long)existing.Start - (long)source.Start);
        }
        else
        {
            var mapping = new Mapping
            {
                Id = (ulong)_mappings.Count + 1,
                Start = source.Start,
                Limit = source.Limit,
                Offset = source.Offset,
                File = source.File,
                BuildId = source.BuildId,
                HasFunctions = source.HasFunctions,
                HasFilenames = source.HasFilenames,
                HasLineNumbers = source.HasLineNumbers,
                HasInlineFrames = source.HasInlineFrames,
            };
            _mappings.Add(mapping);
            _mappingsByKey.Add(key, mapping);
            mapped = new MappedMapping(mapping, 0);
        }

        if (slot >= 0)
        {
            _mappingMemo[slot] = mapped;
        }
        else
        {
            _mappingFallback[source] = mapped;
        }

        return mapped;
    }

    private Function MapFunction(Function source, Profile profile)
    {
        var slot = SlotOf(profile.Functions, source, source.Id);
        if (slot >= 0)
        {
            if (_functionMemo[slot] is { } memo)
            {
                return memo;
            }
        }
        else if (_functionFallback.TryGetValue(source, out var memo))
        {
            return memo;
        }

        var key = new FunctionKey(source.StartLine, source.Name, source.SystemName, source.Filename);
        if (!_functionsByKey.TryGetValue(key, out var function))
        {
            function = new Function
            {
                Id = (ulong)_functions.Count + 1,
                Name = source.Name,
                SystemName = source.SystemName,
                Filename = source.Filename,
                StartLine = source.StartLine,
            };
            _functions.Add(function);
            _functionsByKey.Add(key, function);
        }

        if (slot >= 0)
        {
            _functionMemo[slot] = function;
        }
        else
        {
            _functionFallback[source] = function;
        }

        return function;
    }

    private readonly record struct MappedMapping(Mapping? Mapping, long Offset);

    private readonly record struct FunctionKey(long StartLine, string Name, string SystemName, string Filename)
    {
        // Every input brings its own copies of the strings, so hashing is paid once per function per
        // input: the name and start line spread keys well enough, and equality still checks all four.
        public override int GetHashCode() => HashCode.Combine(Name.GetHashCode(StringComparison.Ordinal), StartLine);

        public bool Equals(FunctionKey other) =>
            StartLine == other.StartLine
            && string.Equals(Name, other.Name, StringComparison.Ordinal)
            && string.Equals(SystemName, other.SystemName, StringComparison.Ordinal)
            && string.Equals(Filename, other.Filename, StringComparison.Ordinal);
    }

    private readonly record struct MappingKey(ulong Size, ulong Offset, string BuildIdOrFile);

    // Lines is a scratch buffer while looking up and the location's own array once stored.
    private readonly record struct LocationKey(Mapping? Mapping, ulong Address, bool IsFolded, Line[] Lines, int LineCount);

    private sealed class LocationKeyComparer : IEqualityComparer<LocationKey>
    {
        public static LocationKeyComparer Instance { get; } = new();

        public bool Equals(LocationKey x, LocationKey y)
        {
            if (!ReferenceEquals(x.Mapping, y.Mapping) || x.Address != y.Address || x.IsFolded != y.IsFolded || x.LineCount != y.LineCount)
            {
                return false;
            }

            for (var i = 0; i < x.LineCount; i++)
            {
                var a = x.Lines[i];
                var b = y.Lines[i];
                if (!ReferenceEquals(a.Function, b.Function) || a.LineNumber != b.LineNumber || a.Column != b.Column)
                {
                    return false;
                }
            }

            return true;
        }

        public int GetHashCode(LocationKey key)
        {
            var hash = default(HashCode);
            hash.Add(key.Mapping?.Id ?? 0);
            hash.Add(key.Address);
            hash.Add(key.IsFolded);
            for (var i = 0; i < key.LineCount; i++)
            {
                var line = key.Lines[i];
                hash.Add(line.Function?.Id ?? 0);
                hash.Add(line.LineNumber);
                hash.Add(line.Column);
            }

            return hash.ToHashCode();
        }
    }
}
