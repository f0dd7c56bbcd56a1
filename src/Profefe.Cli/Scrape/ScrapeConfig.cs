using Profefe.Cli.Scrape.Kubernetes;
using Profefe.Client;

namespace Profefe.Cli.Scrape;

/// <summary>A validated scrape configuration.</summary>
/// <param name="Collector">The collector to push to; null means the --collector option or its default.</param>
/// <param name="Jitter">Up to how long each take is randomly delayed, so targets do not all fire at once.</param>
/// <param name="Timeout">How long a target may take to answer, on top of the profile's own duration.</param>
/// <param name="PushTimeout">How long one push to the collector may take.</param>
/// <param name="Targets">The targets listed in the file itself.</param>
/// <param name="TargetFiles">Files listing more targets, re-read when they change.</param>
/// <param name="TargetFilesRefresh">How often the target files are checked for changes.</param>
/// <param name="Defaults">The profiles taken from targets that do not list their own.</param>
/// <param name="Kubernetes">Where to discover annotated pods, or null without a "kubernetes" section.</param>
internal sealed record ScrapeConfig(
    Uri? Collector,
    TimeSpan Jitter,
    TimeSpan Timeout,
    TimeSpan PushTimeout,
    IReadOnlyList<ScrapeTarget> Targets,
    IReadOnlyList<string> TargetFiles,
    TimeSpan TargetFilesRefresh,
    IReadOnlyList<ProfileSchedule> Defaults,
    KubernetesDiscovery? Kubernetes);

/// <summary>One Go program to profile.</summary>
/// <param name="BaseUrl">The program's pprof index, ending in '/', e.g. http://10.0.0.5:6060/debug/pprof/.</param>
/// <param name="Service">The service its profiles are stored under.</param>
/// <param name="Labels">Labels attached to every profile taken from it.</param>
/// <param name="Profiles">Which profiles to take, and how often.</param>
internal sealed record ScrapeTarget(Uri BaseUrl, string Service, IReadOnlyList<ProfileLabel> Labels, IReadOnlyList<ProfileSchedule> Profiles)
{
    /// <summary>Identifies the target's whole configuration, so a changed entry in a target file restarts its loops.</summary>
    public string Key => string.Join(
        '|',
        BaseUrl.AbsoluteUri,
        Service,
        string.Join(',', Labels.Select(l => l.Key + "=" + l.Value)),
        string.Join(',', Profiles.Select(p => $"{p.Endpoint.Name}/{p.Interval.Ticks}/{p.Duration.Ticks}")));

    public override string ToString() => BaseUrl.AbsoluteUri;
}

/// <summary>Take profiles of one kind every <paramref name="Interval"/>, recording for <paramref name="Duration"/> where the kind needs it.</summary>
internal sealed record ProfileSchedule(PprofEndpoint Endpoint, TimeSpan Interval, TimeSpan Duration);
