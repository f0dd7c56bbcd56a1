using Profefe.Core.Profiles;

namespace Profefe.Core.Engine.Blocks;

/// <summary>The engine stores' encodings of a series' labels and of an entry's or rollup's totals, the same in every store.</summary>
public static class EngineRowCodec
{
    public static byte[] WriteTotals(long[] totals)
    {
        ArgumentNullException.ThrowIfNull(totals);
        var writer = new ColumnWriter(32);
        writer.WriteUInt((ulong)totals.Length);
        foreach (var total in totals)
        {
            writer.WriteInt(total);
        }

        return writer.ToArray();
    }

    public static long[] ReadTotals(byte[] data)
    {
        var reader = new ColumnReader(data);
        var totals = new long[reader.ReadCount()];
        for (var i = 0; i < totals.Length; i++)
        {
            totals[i] = reader.ReadInt();
        }

        return totals;
    }

    public static byte[] WriteLabels(IReadOnlyList<Label> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var writer = new ColumnWriter(64);
        writer.WriteUInt((ulong)labels.Count);
        foreach (var label in labels)
        {
            writer.WriteString(label.Key);
            writer.WriteString(label.Value);
        }

        return writer.ToArray();
    }

    public static Label[] ReadLabels(byte[] data)
    {
        var reader = new ColumnReader(data);
        var labels = new Label[reader.ReadCount()];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = new Label(reader.ReadString(), reader.ReadString());
        }

        return labels;
    }
}
