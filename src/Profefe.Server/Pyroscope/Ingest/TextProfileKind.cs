using Profefe.Core.Ingest;

namespace Profefe.Server.Pyroscope.Ingest;

/// <summary>
/// What a stack-text upload (folded, lines, speedscope) measures, named by the application name's suffix as
/// Pyroscope's SDKs name it (<c>app.cpu</c>, <c>app.alloc_space</c>, …; none is cpu). Time kinds count samples
/// taken sampleRate times a second and are stored in nanoseconds (one sample is 1e9/sampleRate ns).
/// </summary>
internal sealed record TextProfileKind(string Metric, string SampleType, string Unit, bool IsTime)
{
    public static (string Application, TextProfileKind Kind) FromApplication(string application)
    {
        ArgumentNullException.ThrowIfNull(application);
        var dot = application.LastIndexOf('.');
        if (dot < 0)
        {
            return (application, Cpu);
        }

        var suffix = application[(dot + 1)..];
        var kind = suffix switch
        {
            "cpu" or "itimer" => Cpu,
            "wall" or "seconds" or "nanoseconds" or "microseconds" or "milliseconds" => new TextProfileKind("wall", "wall", "nanoseconds", IsTime: true),
            "inuse_objects" or "alloc_objects" => new TextProfileKind("memory", suffix, "count", IsTime: false),
            "inuse_space" or "alloc_space" => new TextProfileKind("memory", suffix, "bytes", IsTime: false),
            "bytes" => new TextProfileKind("memory", "samples", "bytes", IsTime: false),
            "alloc_in_new_tlab_objects" or "alloc_outside_tlab_objects" or "live" => new TextProfileKind("memory", suffix, "count", IsTime: false),
            "alloc_in_new_tlab_bytes" or "alloc_outside_tlab_bytes" => new TextProfileKind("memory", suffix, "bytes", IsTime: false),
            "goroutines" => new TextProfileKind("goroutine", "goroutines", "count", IsTime: false),
            "mutex_count" => new TextProfileKind("mutex", "contentions", "count", IsTime: false),
            "mutex_duration" => new TextProfileKind("mutex", "delay", "nanoseconds", IsTime: false),
            "block_count" or "lock_count" => new TextProfileKind("block", "contentions", "count", IsTime: false),
            "block_duration" or "lock_duration" => new TextProfileKind("block", "delay", "nanoseconds", IsTime: false),
            "exceptions" => new TextProfileKind("exceptions", "samples", "count", IsTime: false),
            _ => throw new ProfileRequestException(400,
                $"bad \"name\": unknown profile type \"{suffix}\" after the last '.' of \"{application}\" (cpu, wall, alloc_space, inuse_objects, ...)"),
        };
        return (application[..dot], kind);
    }

    private static TextProfileKind Cpu { get; } = new("process_cpu", "cpu", "nanoseconds", IsTime: true);
}
