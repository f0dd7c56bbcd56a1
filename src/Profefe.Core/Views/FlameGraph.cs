namespace Profefe.Core.Views;

/// <summary>
/// A flame graph laid out by the server, so the browser only draws it. <see cref="Levels"/>[depth] holds the
/// nodes at that depth left to right, <see cref="Stride"/> numbers each: x offset, total, self, name index
/// (into <see cref="Names"/>), and for a diff also the base profile's total and self. Offsets and widths are in
/// the sample type's unit; the root ("total") spans [0, <see cref="Total"/>).
/// </summary>
/// <param name="Truncated">Nodes were cut to respect the node cap; what was cut is summed into "other" nodes.</param>
/// <param name="Diff">Set for a diff flame graph: widths are then base + new, and each node's new value is total − base.</param>
public sealed record FlameGraph(
    IReadOnlyList<string> Names,
    IReadOnlyList<long[]> Levels,
    int Stride,
    long Total,
    int NodeCount,
    bool Truncated,
    DiffTotals? Diff)
{
    public const int DefaultMaxNodes = 8192;
    public const string RootName = "total";
    public const string OtherName = "other";
}

/// <summary>The two sides of a diff (<c>-diff_base</c>): changes are new − base, shares are relative to the base total.</summary>
public sealed record DiffTotals(long BaseTotal, long NewTotal);
