using Profefe.Core.Profiles;

namespace Profefe.Core.Limits;

/// <summary>
/// Tells whether a profile's sample types contradict the profefe type it is pushed as. Merges refuse profiles
/// whose sample types differ, so one heap profile stored as cpu would make every cpu merge of its service fail.
/// The sample type names are the ones Go's runtime/pprof writes (and Pyroscope's SDKs and this project's agent
/// reuse): a name belonging to another type is a contradiction; names no type claims (wall, time, …) are not.
/// </summary>
public static class ProfileTypeConsistency
{
    /// <summary>The profefe type a sample type name belongs to, or Unknown when no type claims it.</summary>
    public static ProfileType OwnerOf(string sampleType) => sampleType switch
    {
        "samples" or "cpu" => ProfileType.Cpu,
        "alloc_objects" or "alloc_space" or "inuse_objects" or "inuse_space" or "objects" or "space" => ProfileType.Heap,

        // Block and mutex profiles share their sample types; either stands for both.
        "contentions" or "delay" => ProfileType.Block,
        "goroutine" => ProfileType.Goroutine,
        "threadcreate" => ProfileType.Threadcreate,
        _ => ProfileType.Unknown,
    };

    /// <summary>The first sample type of <paramref name="sampleTypes"/> that belongs to another type than <paramref name="type"/>, or null.</summary>
    public static string? FindContradiction(ProfileType type, IReadOnlyList<string> sampleTypes)
    {
        ArgumentNullException.ThrowIfNull(sampleTypes);
        if (type is ProfileType.Other or ProfileType.Trace or ProfileType.Unknown)
        {
            return null;
        }

        var expected = type == ProfileType.Mutex ? ProfileType.Block : type;
        for (var i = 0; i < sampleTypes.Count; i++)
        {
            var owner = OwnerOf(sampleTypes[i]);
            if (owner != ProfileType.Unknown && owner != expected)
            {
                return sampleTypes[i];
            }
        }

        return null;
    }
}
