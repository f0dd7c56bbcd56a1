using Profefe.Core.Engine.Blocks;

namespace Profefe.Core.Engine.Symbols;

/// <summary>
/// Everything a service's profiles share, stored once: strings, mappings, functions, locations, the stack tree
/// (each distinct stack is one node, its parent the caller), sample label sets and profile layouts (sample
/// types + period type). A profile then is a list of (stack id, label set id, values). Tables only grow; the
/// part added since the last commit is written with it (<see cref="WritePending"/>). Callers hold
/// <see cref="Sync"/> while they intern or read, since the block cutter appends while queries read.
/// </summary>
public sealed class SymbolTable
{
    public SymbolTable()
    {
        // Id 0 is the empty string and the empty label set, as in pprof's string table.
        Strings.Intern("");
        LabelSets.Intern(new SymbolKey([0, 0]));
        MarkDurable();
    }

    public Lock Sync { get; } = new();

    public InternTable<string> Strings { get; } = new(StringComparer.Ordinal);

    /// <summary>[start, limit, offset, file, build id, flags].</summary>
    public InternTable<SymbolKey> Mappings { get; } = new(SymbolKeyComparer.Instance);

    /// <summary>[name, system name, file name, start line].</summary>
    public InternTable<SymbolKey> Functions { get; } = new(SymbolKeyComparer.Instance);

    /// <summary>[mapping + 1 (0: none), address, folded, then (function + 1, line, column) per line].</summary>
    public InternTable<SymbolKey> Locations { get; } = new(SymbolKeyComparer.Instance);

    /// <summary>Stack id n ≥ 1 is node n - 1; stack id 0 is the empty stack.</summary>
    public InternTable<StackNode> Stacks { get; } = new();

    /// <summary>[string label count, (key, value count, values…)…, numeric label count, (key, count, numbers…, has units, units…)…].</summary>
    public InternTable<SymbolKey> LabelSets { get; } = new(SymbolKeyComparer.Instance);

    /// <summary>[sample type count, (type, unit)…, has period type, period type, period unit].</summary>
    public InternTable<SymbolKey> Layouts { get; } = new(SymbolKeyComparer.Instance);

    /// <summary>How many symbols of every kind there are: a cheap measure of the table's size.</summary>
    public int SymbolCount => Strings.Count + Mappings.Count + Functions.Count + Locations.Count + Stacks.Count + LabelSets.Count + Layouts.Count;

    public bool HasPending =>
        Strings.Pending.Length + Mappings.Pending.Length + Functions.Pending.Length + Locations.Pending.Length
        + Stacks.Pending.Length + LabelSets.Pending.Length + Layouts.Pending.Length > 0;

    /// <summary>How many sample values a profile of <paramref name="layout"/> has per sample.</summary>
    public int ValuesPerSample(int layout) => (int)Layouts[layout].Values[0];

    /// <summary>Writes the symbols added since the last commit, each table prefixed by where it starts.</summary>
    public void WritePending(ColumnWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteUInt((ulong)Strings.Durable);
        writer.WriteUInt((ulong)Strings.Pending.Length);
        foreach (var value in Strings.Pending)
        {
            writer.WriteString(value);
        }

        WriteKeys(writer, Mappings);
        WriteKeys(writer, Functions);
        WriteKeys(writer, Locations);
        writer.WriteUInt((ulong)Stacks.Durable);
        writer.WriteUInt((ulong)Stacks.Pending.Length);
        foreach (var node in Stacks.Pending)
        {
            writer.WriteInt(node.Parent);
            writer.WriteUInt((ulong)node.Location);
        }

        WriteKeys(writer, LabelSets);
        WriteKeys(writer, Layouts);
    }

    /// <summary>Appends symbols that <see cref="WritePending"/> wrote; deltas must come back in the order they were written.</summary>
    /// <exception cref="InvalidDataException">the delta does not continue this table.</exception>
    public void Restore(ReadOnlySpan<byte> delta)
    {
        var reader = new ColumnReader(delta);
        var count = StartOf(ref reader, Strings.Count);
        for (var i = 0; i < count; i++)
        {
            Strings.Restore(reader.ReadString());
        }

        RestoreKeys(ref reader, Mappings);
        RestoreKeys(ref reader, Functions);
        RestoreKeys(ref reader, Locations);
        count = StartOf(ref reader, Stacks.Count);
        for (var i = 0; i < count; i++)
        {
            var parent = (int)reader.ReadInt();
            Stacks.Restore(new StackNode(parent, reader.ReadCount()));
        }

        RestoreKeys(ref reader, LabelSets);
        RestoreKeys(ref reader, Layouts);
    }

    public void MarkDurable()
    {
        Strings.MarkDurable();
        Mappings.MarkDurable();
        Functions.MarkDurable();
        Locations.MarkDurable();
        Stacks.MarkDurable();
        LabelSets.MarkDurable();
        Layouts.MarkDurable();
    }

    public void DiscardPending()
    {
        Strings.DiscardPending();
        Mappings.DiscardPending();
        Functions.DiscardPending();
        Locations.DiscardPending();
        Stacks.DiscardPending();
        LabelSets.DiscardPending();
        Layouts.DiscardPending();
    }

    private static void WriteKeys(ColumnWriter writer, InternTable<SymbolKey> table)
    {
        writer.WriteUInt((ulong)table.Durable);
        writer.WriteUInt((ulong)table.Pending.Length);
        foreach (var key in table.Pending)
        {
            writer.WriteUInt((ulong)key.Values.Length);
            foreach (var value in key.Values)
            {
                writer.WriteInt(value);
            }
        }
    }

    private static void RestoreKeys(ref ColumnReader reader, InternTable<SymbolKey> table)
    {
        var count = StartOf(ref reader, table.Count);
        for (var i = 0; i < count; i++)
        {
            var values = new long[reader.ReadCount()];
            for (var j = 0; j < values.Length; j++)
            {
                values[j] = reader.ReadInt();
            }

            table.Restore(new SymbolKey(values));
        }
    }

    private static int StartOf(ref ColumnReader reader, int have)
    {
        var start = reader.ReadCount();
        return start == have
            ? reader.ReadCount()
            : throw new InvalidDataException($"symbol delta starts at {start} but the table has {have}: deltas are out of order");
    }
}
