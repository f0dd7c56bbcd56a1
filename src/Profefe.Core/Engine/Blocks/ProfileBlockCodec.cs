using System.IO.Compression;
using Profefe.Core.Profiles;

namespace Profefe.Core.Engine.Blocks;

/// <summary>
/// A block: the rows of one series over a span of time, column by column (ids, times, header fields, stacks,
/// label sets, then each sample type's values), varint-coded and Brotli-compressed. Columns of like values
/// side by side are what make a profile cost a fraction of its pprof bytes.
/// </summary>
public static class ProfileBlockCodec
{
    private const byte FormatVersion = 1;

    public static byte[] Encode(IReadOnlyList<ProfileRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var writer = new ColumnWriter(16 * 1024);
        writer.WriteUInt((ulong)rows.Count);
        Span<byte> id = stackalloc byte[ProfileId.ByteLength];
        var previousTime = 0L;
        foreach (var row in rows)
        {
            row.Id.WriteBytes(id);
            writer.WriteBytes(id);
            writer.WriteInt(row.CreatedAt.Ticks - previousTime);
            previousTime = row.CreatedAt.Ticks;
        }

        foreach (var row in rows)
        {
            var h = row.Header;
            writer.WriteUInt((ulong)h.Layout);
            writer.WriteUInt((ulong)(row.SampleCount == 0 ? 0 : row.Values.Length / row.SampleCount));
            writer.WriteInt(h.Period);
            writer.WriteInt(h.TimeNanos);
            writer.WriteInt(h.DurationNanos);
            writer.WriteUInt((ulong)h.DefaultSampleType);
            writer.WriteUInt((ulong)h.DropFrames);
            writer.WriteUInt((ulong)h.KeepFrames);
            writer.WriteUInt((ulong)h.DocUrl);
            writer.WriteUInt((ulong)h.Comments.Length);
            foreach (var comment in h.Comments)
            {
                writer.WriteUInt((ulong)comment);
            }

            writer.WriteUInt((ulong)row.SampleCount);
        }

        foreach (var row in rows)
        {
            var previous = 0;
            foreach (var stack in row.Stacks)
            {
                writer.WriteInt(stack - previous);
                previous = stack;
            }
        }

        foreach (var row in rows)
        {
            foreach (var labelSet in row.LabelSets)
            {
                writer.WriteUInt((uint)labelSet);
            }
        }

        foreach (var row in rows)
        {
            var samples = row.SampleCount;
            var width = samples == 0 ? 0 : row.Values.Length / samples;
            for (var t = 0; t < width; t++)
            {
                for (var i = 0; i < samples; i++)
                {
                    writer.WriteInt(row.Values[(i * width) + t]);
                }
            }
        }

        return Compress(writer.Written);
    }

    /// <exception cref="InvalidDataException">the block is corrupt.</exception>
    public static List<ProfileRow> Decode(ReadOnlySpan<byte> block)
    {
        var data = Decompress(block);
        var reader = new ColumnReader(data);
        var count = reader.ReadCount();
        var ids = new ProfileId[count];
        var times = new long[count];
        var time = 0L;
        for (var i = 0; i < count; i++)
        {
            ids[i] = ProfileId.FromBytes(reader.ReadBytes());
            time += reader.ReadInt();
            times[i] = time;
        }

        var headers = new ProfileHeader[count];
        var widths = new int[count];
        var sampleCounts = new int[count];
        for (var i = 0; i < count; i++)
        {
            var layout = reader.ReadCount();
            widths[i] = reader.ReadCount();
            var period = reader.ReadInt();
            var timeNanos = reader.ReadInt();
            var duration = reader.ReadInt();
            var defaultType = reader.ReadCount();
            var drop = reader.ReadCount();
            var keep = reader.ReadCount();
            var docUrl = reader.ReadCount();
            var comments = new int[reader.ReadCount()];
            for (var c = 0; c < comments.Length; c++)
            {
                comments[c] = reader.ReadCount();
            }

            headers[i] = new ProfileHeader(layout, period, timeNanos, duration, defaultType, drop, keep, docUrl, comments);
            sampleCounts[i] = reader.ReadCount();
        }

        var stacks = new int[count][];
        for (var i = 0; i < count; i++)
        {
            var row = stacks[i] = new int[sampleCounts[i]];
            var stack = 0;
            for (var s = 0; s < row.Length; s++)
            {
                stack += (int)reader.ReadInt();
                row[s] = stack;
            }
        }

        var labelSets = new int[count][];
        for (var i = 0; i < count; i++)
        {
            var row = labelSets[i] = new int[sampleCounts[i]];
            for (var s = 0; s < row.Length; s++)
            {
                row[s] = reader.ReadCount();
            }
        }

        var rows = new List<ProfileRow>(count);
        for (var i = 0; i < count; i++)
        {
            var samples = sampleCounts[i];
            var width = widths[i];
            var values = new long[samples * width];
            for (var t = 0; t < width; t++)
            {
                for (var s = 0; s < samples; s++)
                {
                    values[(s * width) + t] = reader.ReadInt();
                }
            }

            rows.Add(new ProfileRow(ids[i], new DateTime(times[i], DateTimeKind.Utc), headers[i], stacks[i], labelSets[i], values));
        }

        return rows;
    }

    public static byte[] Compress(ReadOnlySpan<byte> data)
    {
        using var output = new MemoryStream(data.Length / 3 + 16);
        output.WriteByte(FormatVersion);
        // Quality 5 compresses columns of varints nearly as well as 11, several times faster.
        using (var brotli = new BrotliStream(output, new BrotliCompressionOptions { Quality = 5 }, leaveOpen: true))
        {
            brotli.Write(data);
        }

        return output.ToArray();
    }

    /// <exception cref="InvalidDataException">not an engine block of a known version.</exception>
    public static byte[] Decompress(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0 || data[0] != FormatVersion)
        {
            throw new InvalidDataException("engine block has an unknown format version");
        }

        using var input = new MemoryStream(data[1..].ToArray());
        using var brotli = new BrotliStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream(data.Length * 4);
        brotli.CopyTo(output);
        return output.ToArray();
    }
}
