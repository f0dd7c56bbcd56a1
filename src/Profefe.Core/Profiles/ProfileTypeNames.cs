namespace Profefe.Core.Profiles;

/// <summary>The wire names of <see cref="ProfileType"/> ("cpu", "heap", …), as profefe spells them.</summary>
public static class ProfileTypeNames
{
    public static string ToWireName(ProfileType type) => type switch
    {
        ProfileType.Cpu => "cpu",
        ProfileType.Heap => "heap",
        ProfileType.Block => "block",
        ProfileType.Mutex => "mutex",
        ProfileType.Goroutine => "goroutine",
        ProfileType.Threadcreate => "threadcreate",
        ProfileType.Other => "other",
        ProfileType.Trace => "trace",
        _ => "unknown",
    };

    /// <summary>Parses a wire name after trimming white space; "unknown" and anything else yield Unknown.</summary>
    public static ProfileType Parse(string? text) => text.AsSpan().Trim() switch
    {
        "cpu" => ProfileType.Cpu,
        "heap" => ProfileType.Heap,
        "block" => ProfileType.Block,
        "mutex" => ProfileType.Mutex,
        "goroutine" => ProfileType.Goroutine,
        "threadcreate" => ProfileType.Threadcreate,
        "other" => ProfileType.Other,
        "trace" => ProfileType.Trace,
        _ => ProfileType.Unknown,
    };
}
