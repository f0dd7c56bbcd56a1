using Profefe.Core.Engine.Blocks;
using Profefe.Pprof;

namespace Profefe.Core.Engine;

/// <summary>
/// Profiles of one layout folded together: their values summed per (stack, label set), their headers folded
/// as Go's merge folds them, and totals per sample type. A time bucket's rollup is one of these, and so is a
/// query's running result: adding rows in creation order, or aggregates of consecutive time ranges in order,
/// gives what merging the raw profiles in that order gives.
/// </summary>
public sealed class ProfileAggregate
{
    private readonly Dictionary<long, int> _slots = [];
    private readonly List<long> _keys = [];
    private readonly List<int> _comments = [];
    private readonly HashSet<int> _seenComments = [];
    private long[] _values = new long[64];

    public ProfileAggregate(int layout, int width)
    {
        Layout = layout;
        Width = width;
        Totals = new long[width];
    }

    public int Layout { get; }

    public int Width { get; }

    /// <summary>Profiles folded in.</summary>
    public int Count { get; private set; }

    public long[] Totals { get; }

    public long TimeNanos { get; private set; }

    /// <summary>Whether a profile without a time was folded in (Go's fold then restarts from the next time).</summary>
    public bool SawZeroTime { get; private set; }

    public long DurationNanos { get; private set; }

    public long Period { get; private set; }

    public int DefaultSampleType { get; private set; }

    public int DropFrames { get; private set; }

    public int KeepFrames { get; private set; }

    public int DocUrl { get; private set; }

    public int EntryCount => _keys.Count;

    public long KeyAt(int entry) => _keys[entry];

    public ReadOnlySpan<long> ValuesAt(int entry) => _values.AsSpan(entry * Width, Width);

    public static long Key(int stack, int labelSet) => ((long)stack << 32) | (uint)labelSet;

    public static int StackOf(long key) => (int)(key >> 32);

    public static int LabelSetOf(long key) => (int)key;

    /// <exception cref="ProfileFormatException">the row's layout differs.</exception>
    public void Add(ProfileRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var header = row.Header;
        CheckLayout(header.Layout);
        FoldHeader(header.TimeNanos, header.TimeNanos == 0, sequential: true, header.DurationNanos, header.Period, header.DefaultSampleType, header.DropFrames, header.KeepFrames, header.DocUrl, header.Comments, 1);
        var values = row.Values.AsSpan();
        for (var i = 0; i < row.SampleCount; i++)
        {
            var sample = values.Slice(i * Width, Width);
            if (!sample.ContainsAnyExcept(0))
            {
                continue;
            }

            AddEntry(Key(row.Stacks[i], row.LabelSets[i]), sample);
        }
    }

    /// <summary>Folds in an aggregate of profiles that all come after the ones folded so far.</summary>
    /// <exception cref="ProfileFormatException">the layouts differ.</exception>
    public void Add(ProfileAggregate other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Count == 0)
        {
            return;
        }

        CheckLayout(other.Layout);
        FoldHeader(other.TimeNanos, other.SawZeroTime, sequential: false, other.DurationNanos, other.Period, other.DefaultSampleType, other.DropFrames, other.KeepFrames, other.DocUrl, other._comments, other.Count);
        for (var i = 0; i < other._keys.Count; i++)
        {
            AddEntry(other._keys[i], other.ValuesAt(i));
        }
    }

    public ProfileHeader ToHeader() =>
        new(Layout, Period, TimeNanos, DurationNanos, DefaultSampleType, DropFrames, KeepFrames, DocUrl, [.. _comments]);

    /// <summary>Writes the aggregate (a rollup) in the engine's encoding.</summary>
    public void WriteTo(ColumnWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteUInt((ulong)Layout);
        writer.WriteUInt((ulong)Width);
        writer.WriteUInt((ulong)Count);
        writer.WriteInt(TimeNanos);
        writer.WriteUInt(SawZeroTime ? 1UL : 0UL);
        writer.WriteInt(DurationNanos);
        writer.WriteInt(Period);
        writer.WriteUInt((ulong)DefaultSampleType);
        writer.WriteUInt((ulong)DropFrames);
        writer.WriteUInt((ulong)KeepFrames);
        writer.WriteUInt((ulong)DocUrl);
        writer.WriteUInt((ulong)_comments.Count);
        foreach (var comment in _comments)
        {
            writer.WriteUInt((ulong)comment);
        }

        writer.WriteUInt((ulong)_keys.Count);
        var previous = 0L;
        foreach (var key in _keys)
        {
            writer.WriteInt(StackOf(key) - StackOf(previous));
            writer.WriteUInt((uint)LabelSetOf(key));
            previous = key;
        }

        for (var t = 0; t < Width; t++)
        {
            for (var i = 0; i < _keys.Count; i++)
            {
                writer.WriteInt(_values[(i * Width) + t]);
            }
        }
    }

    public static ProfileAggregate ReadFrom(ref ColumnReader reader)
    {
        var aggregate = new ProfileAggregate(reader.ReadCount(), reader.ReadCount())
        {
            Count = reader.ReadCount(),
            TimeNanos = reader.ReadInt(),
            SawZeroTime = reader.ReadUInt() != 0,
            DurationNanos = reader.ReadInt(),
            Period = reader.ReadInt(),
            DefaultSampleType = reader.ReadCount(),
            DropFrames = reader.ReadCount(),
            KeepFrames = reader.ReadCount(),
            DocUrl = reader.ReadCount(),
        };
        var comments = reader.ReadCount();
        for (var i = 0; i < comments; i++)
        {
            var comment = reader.ReadCount();
            aggregate._comments.Add(comment);
            aggregate._seenComments.Add(comment);
        }

        var entries = reader.ReadCount();
        var width = aggregate.Width;
        aggregate._values = new long[Math.Max(1, entries * width)];
        var stack = 0;
        for (var i = 0; i < entries; i++)
        {
            stack += (int)reader.ReadInt();
            var key = Key(stack, reader.ReadCount());
            aggregate._slots[key] = i;
            aggregate._keys.Add(key);
        }

        for (var t = 0; t < width; t++)
        {
            for (var i = 0; i < entries; i++)
            {
                var value = reader.ReadInt();
                aggregate._values[(i * width) + t] = value;
                aggregate.Totals[t] += value;
            }
        }

        return aggregate;
    }

    private void CheckLayout(int layout)
    {
        if (layout != Layout)
        {
            throw new ProfileFormatException("incompatible profiles: their sample types or period types differ");
        }
    }

    private void FoldHeader(
        long time, bool sawZero, bool sequential, long duration, long period, int defaultSampleType, int dropFrames, int keepFrames, int docUrl,
        IReadOnlyList<int> comments, int count)
    {
        if (Count == 0)
        {
            DropFrames = dropFrames;
            KeepFrames = keepFrames;
            DocUrl = docUrl;
        }

        // Go's combineHeaders: "if time == 0 || t < time { time = t }" — a zero restarts the fold. An aggregate
        // that saw a zero ends as its own fold after that zero ended, whatever came before it.
        if (sequential)
        {
            if (TimeNanos == 0 || time < TimeNanos)
            {
                TimeNanos = time;
            }
        }
        else
        {
            TimeNanos = sawZero || TimeNanos == 0 ? time : Math.Min(TimeNanos, time);
        }

        SawZeroTime |= sawZero;
        DurationNanos += duration;
        if (Period == 0 || Period < period)
        {
            Period = period;
        }

        if (DefaultSampleType == 0)
        {
            DefaultSampleType = defaultSampleType;
        }

        foreach (var comment in comments)
        {
            if (_seenComments.Add(comment))
            {
                _comments.Add(comment);
            }
        }

        Count += count;
    }

    private void AddEntry(long key, ReadOnlySpan<long> values)
    {
        ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_slots, key, out var exists);
        if (!exists)
        {
            slot = _keys.Count;
            _keys.Add(key);
            var need = _keys.Count * Width;
            if (need > _values.Length)
            {
                Array.Resize(ref _values, Math.Max(need, _values.Length * 2));
            }
        }

        var target = _values.AsSpan(slot * Width, Width);
        for (var t = 0; t < values.Length; t++)
        {
            target[t] += values[t];
            Totals[t] += values[t];
        }
    }
}
