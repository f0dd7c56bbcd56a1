namespace Profefe.Cli.Scrape;

/// <summary>
/// One of Go's net/http/pprof endpoints and the profefe type its profiles are stored as.
/// </summary>
/// <remarks>
/// allocs is stored as type "other": Go serves the very same samples at heap and allocs (only the default
/// sample type differs), so storing allocs as "heap" would count every allocation twice when heap profiles are merged.
/// </remarks>
/// <param name="Name">The name used in the scrape config and in the endpoint's path.</param>
/// <param name="ProfefeType">The type the collector stores it as.</param>
/// <param name="TakesDuration">Whether the endpoint records for a while (?seconds=N) instead of answering a snapshot.</param>
/// <param name="Path">The path under the target's base URL.</param>
internal sealed record PprofEndpoint(string Name, string ProfefeType, bool TakesDuration, string Path)
{
    public static readonly PprofEndpoint Cpu = new("cpu", "cpu", true, "profile");
    public static readonly PprofEndpoint Heap = new("heap", "heap", false, "heap");
    public static readonly PprofEndpoint Allocs = new("allocs", "other", false, "allocs");
    public static readonly PprofEndpoint Block = new("block", "block", false, "block");
    public static readonly PprofEndpoint Mutex = new("mutex", "mutex", false, "mutex");
    public static readonly PprofEndpoint Goroutine = new("goroutine", "goroutine", false, "goroutine");
    public static readonly PprofEndpoint ThreadCreate = new("threadcreate", "threadcreate", false, "threadcreate");
    public static readonly PprofEndpoint Trace = new("trace", "trace", true, "trace");

    public static IReadOnlyList<PprofEndpoint> All { get; } = [Cpu, Heap, Allocs, Block, Mutex, Goroutine, ThreadCreate, Trace];

    public static PprofEndpoint? Find(string name)
    {
        // "profile" is the endpoint's own name for cpu; accept it so configs can use either.
        var wanted = name.Trim().ToLowerInvariant() switch
        {
            "profile" => "cpu",
            var other => other,
        };
        foreach (var endpoint in All)
        {
            if (endpoint.Name == wanted)
            {
                return endpoint;
            }
        }

        return null;
    }

    /// <summary>The URL to fetch from a target whose pprof index is <paramref name="baseUrl"/>.</summary>
    public Uri UrlFor(Uri baseUrl, TimeSpan duration) =>
        new(baseUrl, TakesDuration ? $"{Path}?seconds={Math.Max(1, (int)Math.Round(duration.TotalSeconds))}" : Path);
}
