using System.Globalization;
using System.Net;
using k8s.Models;
using Profefe.Client;

namespace Profefe.Cli.Scrape.Kubernetes;

/// <summary>
/// Decides from a pod's annotations whether and how it is scraped. The annotations and the labels are
/// kube-profefe's (kprofefe), unchanged, so pods annotated for it are scraped the same way here; profiles,
/// cpu-duration and runtime are additions.
/// </summary>
internal static class PodTargetMapper
{
    public const string EnableAnnotation = "profefe.com/enable";
    public const string PortAnnotation = "profefe.com/port";
    public const string PathAnnotation = "profefe.com/path";
    public const string ServiceAnnotation = "profefe.com/service";
    public const string ProfilesAnnotation = "profefe.com/profiles";
    public const string CpuDurationAnnotation = "profefe.com/cpu-duration";
    public const string RuntimeAnnotation = "profefe.com/runtime";

    public const int DefaultPort = 6060;
    public const string DefaultPath = "/debug/pprof";

    /// <summary>The labels discovery sets on every profile; user-mapped pod labels may not reuse them.</summary>
    public static readonly IReadOnlySet<string> DiscoveryLabels = new HashSet<string>(StringComparer.Ordinal) { "from", "namespace", "node", "pod" };

    public static PodDecision Map(V1Pod pod, KubernetesDiscovery discovery, IReadOnlyList<ProfileSchedule> defaults)
    {
        var annotations = pod.Metadata?.Annotations;
        if (annotations is null || !annotations.TryGetValue(EnableAnnotation, out var enabled) || enabled != "true")
        {
            return PodDecision.NotAnnotated;
        }

        var name = pod.Metadata!.Name ?? "";
        var where = $"pod {pod.Metadata.NamespaceProperty}/{name}";
        switch (Annotation(annotations, RuntimeAnnotation)?.ToLowerInvariant())
        {
            case null or "go":
                break;
            case "dotnet":
                // A .NET process's diagnostics port is a Unix socket inside its own pod: no other pod can reach it,
                // so the profefe agent in that pod (sidecar or in-process) pushes its profiles itself.
                return PodDecision.ByAgent;
            case var other:
                return PodDecision.Invalid($"{where}: {RuntimeAnnotation}: unknown runtime \"{other}\" (go or dotnet)");
        }

        // Like kprofefe, only running pods; a pod being deleted is treated as gone, its process is stopping.
        if (pod.Status?.Phase != "Running" || string.IsNullOrEmpty(pod.Status.PodIP) || pod.Metadata.DeletionTimestamp is not null)
        {
            return PodDecision.NotRunning;
        }

        var port = DefaultPort;
        if (Annotation(annotations, PortAnnotation) is { } portText
            && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            return PodDecision.Invalid($"{where}: {PortAnnotation}: \"{portText}\" is not a port number");
        }

        if (!IPAddress.TryParse(pod.Status.PodIP, out var ip))
        {
            return PodDecision.Invalid($"{where}: status.podIP \"{pod.Status.PodIP}\" is not an IP address");
        }

        var path = Annotation(annotations, PathAnnotation) ?? DefaultPath;
        path = (path.StartsWith('/') ? path : "/" + path).TrimEnd('/') + "/";
        if (!Uri.TryCreate($"http://{FormatHost(ip)}:{port.ToString(CultureInfo.InvariantCulture)}{path}", UriKind.Absolute, out var baseUrl))
        {
            return PodDecision.Invalid($"{where}: {PathAnnotation}: \"{path}\" is not a URL path");
        }

        IReadOnlyList<ProfileSchedule> profiles;
        try
        {
            profiles = ScrapeConfigLoader.ReadAnnotatedProfiles(Annotation(annotations, ProfilesAnnotation), Annotation(annotations, CpuDurationAnnotation), defaults, where);
        }
        catch (ScrapeConfigException e)
        {
            return PodDecision.Invalid(e.Message);
        }

        var labels = new List<ProfileLabel>
        {
            new("from", "kube-profefe"),
            new("namespace", pod.Metadata.NamespaceProperty ?? ""),
        };
        if (!string.IsNullOrEmpty(pod.Spec?.NodeName))
        {
            labels.Add(new ProfileLabel("node", pod.Spec.NodeName));
        }

        var service = Annotation(annotations, ServiceAnnotation);
        if (service is not null)
        {
            // kprofefe's rule: with a shared service name, the pod tells the instances apart.
            labels.Add(new ProfileLabel("pod", name));
        }

        foreach (var mapping in discovery.PodLabels)
        {
            if (pod.Metadata.Labels?.TryGetValue(mapping.PodLabel, out var value) == true && !string.IsNullOrEmpty(value))
            {
                labels.Add(new ProfileLabel(mapping.ProfileLabel, value));
            }
        }

        labels.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return PodDecision.Scrape(new ScrapeTarget(baseUrl, service ?? name, labels, profiles));
    }

    private static string? Annotation(IDictionary<string, string> annotations, string key) =>
        annotations.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    private static string FormatHost(IPAddress ip) =>
        ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();
}

/// <summary>What discovery does with a pod.</summary>
internal enum PodVerdict
{
    /// <summary>Not annotated profefe.com/enable: "true": not ours.</summary>
    NotAnnotated,

    /// <summary>Annotated, but not running or without an IP yet (or being deleted).</summary>
    NotRunning,

    /// <summary>Scraped as <see cref="PodDecision.Target"/>.</summary>
    Scrape,

    /// <summary>A .NET pod: profiled by the profefe agent inside it, which pushes by itself.</summary>
    ByAgent,

    /// <summary>Annotated with values that make no sense; <see cref="PodDecision.Problem"/> says which.</summary>
    Invalid,
}

/// <summary>The verdict on one pod, with its target or its problem.</summary>
internal sealed record PodDecision(PodVerdict Verdict, ScrapeTarget? Target, string? Problem)
{
    public static readonly PodDecision NotAnnotated = new(PodVerdict.NotAnnotated, null, null);
    public static readonly PodDecision NotRunning = new(PodVerdict.NotRunning, null, null);
    public static readonly PodDecision ByAgent = new(PodVerdict.ByAgent, null, null);

    public static PodDecision Scrape(ScrapeTarget target) => new(PodVerdict.Scrape, target, null);

    public static PodDecision Invalid(string problem) => new(PodVerdict.Invalid, null, problem);
}
