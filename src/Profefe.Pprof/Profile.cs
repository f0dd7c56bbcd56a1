namespace Profefe.Pprof;

/// <summary>
/// A profile in memory: Google's profile.proto with its id references resolved to objects,
/// the shape Go's <c>github.com/google/pprof/profile</c> package uses.
/// </summary>
public sealed partial class Profile
{
    public List<SampleType> SampleTypes { get; } = [];

    /// <summary>The preferred sample type's <see cref="SampleType.Type"/>; empty means the last one.</summary>
    public string DefaultSampleType { get; set; } = "";

    public List<Sample> Samples { get; } = [];

    public List<Mapping> Mappings { get; } = [];

    public List<Location> Locations { get; } = [];

    public List<Function> Functions { get; } = [];

    public List<string> Comments { get; } = [];

    public string DropFrames { get; set; } = "";

    public string KeepFrames { get; set; } = "";

    public long TimeNanos { get; set; }

    public long DurationNanos { get; set; }

    public SampleType? PeriodType { get; set; }

    public long Period { get; set; }

    public string DocUrl { get; set; } = "";
}

/// <summary>A sample type or the period type: what is measured and in which unit.</summary>
public sealed record SampleType(string Type, string Unit)
{
    public override string ToString() => Type + "/" + Unit;
}

/// <summary>One sample: a call stack (leaf first) and one value per sample type.</summary>
public sealed class Sample
{
    public Location[] Locations { get; set; } = [];

    public long[] Values { get; set; } = [];

    /// <summary>String labels; null when the sample has none.</summary>
    public Dictionary<string, string[]>? Labels { get; set; }

    /// <summary>Numeric labels; null when the sample has none.</summary>
    public Dictionary<string, long[]>? NumLabels { get; set; }

    /// <summary>Units of <see cref="NumLabels"/>, parallel to its values; null when none is set.</summary>
    public Dictionary<string, string[]>? NumUnits { get; set; }
}

/// <summary>A program counter and the source lines (inlined callee first) it stands for.</summary>
public sealed class Location
{
    public ulong Id { get; set; }

    public Mapping? Mapping { get; set; }

    public ulong Address { get; set; }

    public Line[] Lines { get; set; } = [];

    public bool IsFolded { get; set; }
}

/// <summary>One source line of a location.</summary>
public readonly record struct Line(Function? Function, long LineNumber, long Column = 0);

public sealed class Function
{
    public ulong Id { get; set; }

    public string Name { get; set; } = "";

    public string SystemName { get; set; } = "";

    public string Filename { get; set; } = "";

    public long StartLine { get; set; }
}

/// <summary>A binary (or other address range) the locations' addresses fall into.</summary>
public sealed class Mapping
{
    public ulong Id { get; set; }

    public ulong Start { get; set; }

    public ulong Limit { get; set; }

    public ulong Offset { get; set; }

    public string File { get; set; } = "";

    public string BuildId { get; set; } = "";

    public bool HasFunctions { get; set; }

    public bool HasFilenames { get; set; }

    public bool HasLineNumbers { get; set; }

    public bool HasInlineFrames { get; set; }
}
