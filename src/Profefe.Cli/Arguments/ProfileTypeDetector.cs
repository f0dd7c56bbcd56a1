using Profefe.Pprof;

namespace Profefe.Cli.Arguments;

/// <summary>
/// Tells a profile file's profefe type from its contents (<c>push --type auto</c>): Go's execution trace
/// header, else the pprof period and sample types Go's runtime/pprof writes (which Pyroscope's SDKs and this
/// project's agent reuse).
/// </summary>
internal static class ProfileTypeDetector
{
    public const string Auto = "auto";

    // Every Go execution trace starts with "go 1.NN trace" padded with zero bytes.
    private static ReadOnlySpan<byte> TraceMagic => "go 1."u8;

    private static ReadOnlySpan<byte> TraceWord => " trace\0"u8;

    /// <summary>The type to store <paramref name="data"/> (read from <paramref name="fileName"/>) as.</summary>
    /// <exception cref="ProfileFormatException">the data is neither a Go trace nor a profile, or it cannot be told which type it is.</exception>
    public static string Detect(ReadOnlySpan<byte> data, string fileName)
    {
        if (data.StartsWith(TraceMagic) && data[..Math.Min(data.Length, 16)].IndexOf(TraceWord) > 0)
        {
            return "trace";
        }

        return FromProfile(ProfileDecoder.Decode(data), fileName);
    }

    /// <exception cref="ProfileFormatException">a block or mutex profile without samples that its file name does not name.</exception>
    public static string FromProfile(Profile profile, string fileName)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (profile.PeriodType?.Type is "cpu" || HasSampleType(profile, "cpu"))
        {
            return "cpu";
        }

        if (HasSampleType(profile, "inuse_space") || HasSampleType(profile, "alloc_space"))
        {
            // Go's allocs endpoint serves the heap profile's samples with alloc_space as the default; stored as
            // heap, every allocation would count twice in heap merges (scrape stores it as other too).
            return profile.DefaultSampleType.StartsWith("alloc_", StringComparison.Ordinal) && HasSampleType(profile, "inuse_space") ? "other" : "heap";
        }

        if (HasSampleType(profile, "contentions") || HasSampleType(profile, "delay"))
        {
            return BlockOrMutex(profile, fileName);
        }

        if (HasSampleType(profile, "goroutine"))
        {
            return "goroutine";
        }

        return HasSampleType(profile, "threadcreate") ? "threadcreate" : "other";
    }

    /// <summary>
    /// Go writes block and mutex profiles alike; they differ in where the stacks end: a block profile at the
    /// call that waited (channel, select, Lock, Wait), a mutex profile at the Unlock that made others wait.
    /// </summary>
    private static string BlockOrMutex(Profile profile, string fileName)
    {
        var name = Path.GetFileName(fileName);
        if (name.Contains("mutex", StringComparison.OrdinalIgnoreCase))
        {
            return "mutex";
        }

        if (name.Contains("block", StringComparison.OrdinalIgnoreCase))
        {
            return "block";
        }

        var waits = 0;
        var others = 0;
        foreach (var sample in profile.Samples)
        {
            if (sample.Locations is not [{ Lines: [{ Function: { } leaf }, ..] }, ..])
            {
                continue;
            }

            if (IsGoWait(leaf.Name))
            {
                waits++;
            }
            else
            {
                others++;
            }
        }

        if (waits + others == 0)
        {
            throw new ProfileFormatException("a block or mutex profile without samples: give --type block or --type mutex");
        }

        return waits > others ? "block" : "mutex";
    }

    private static bool IsGoWait(string function) =>
        (function.StartsWith("runtime.", StringComparison.Ordinal) || function.StartsWith("sync.", StringComparison.Ordinal))
        && !function.EndsWith("nlock", StringComparison.Ordinal)
        && function != "runtime._LostContendedRuntimeLock";

    private static bool HasSampleType(Profile profile, string type) => profile.SampleTypes.Exists(t => t.Type == type);
}
