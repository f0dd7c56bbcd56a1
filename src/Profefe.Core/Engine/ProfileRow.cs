using Profefe.Core.Profiles;

namespace Profefe.Core.Engine;

/// <summary>
/// One profile in the engine: the few fields of its own and its samples as (stack id, label set id, values),
/// all ids into its service's <see cref="Symbols.SymbolTable"/>. Sample order is the pushed profile's, so the
/// profile can be rebuilt sample by sample.
/// </summary>
/// <param name="Values">Sample-major: sample i's values are [i * k, (i + 1) * k) for k values per sample.</param>
public sealed record ProfileRow(
    ProfileId Id,
    DateTime CreatedAt,
    ProfileHeader Header,
    int[] Stacks,
    int[] LabelSets,
    long[] Values)
{
    public int SampleCount => Stacks.Length;
}

/// <summary>A profile's own fields besides its samples; strings and the layout are symbol ids.</summary>
public sealed record ProfileHeader(
    int Layout,
    long Period,
    long TimeNanos,
    long DurationNanos,
    int DefaultSampleType,
    int DropFrames,
    int KeepFrames,
    int DocUrl,
    int[] Comments);
