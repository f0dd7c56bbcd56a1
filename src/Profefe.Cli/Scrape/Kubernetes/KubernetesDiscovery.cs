namespace Profefe.Cli.Scrape.Kubernetes;

/// <summary>The "kubernetes" section of scrape.yaml: which pods to discover and how to reach the API server.</summary>
/// <param name="Kubeconfig">A kubeconfig file; null means the in-cluster service account, else $KUBECONFIG or ~/.kube/config.</param>
/// <param name="Context">The kubeconfig context to use; null means its current context.</param>
/// <param name="Namespaces">The namespaces to watch; empty means all of them.</param>
/// <param name="LabelSelector">Only pods matching this selector (Kubernetes syntax, e.g. "tier=backend,env!=dev"); null means every pod.</param>
/// <param name="PodLabels">Pod labels copied onto every profile, each under its profile label key.</param>
/// <param name="WatchTimeout">How long one watch request lasts before the server ends it and it is renewed.</param>
internal sealed record KubernetesDiscovery(
    string? Kubeconfig,
    string? Context,
    IReadOnlyList<string> Namespaces,
    string? LabelSelector,
    IReadOnlyList<PodLabelMapping> PodLabels,
    TimeSpan WatchTimeout);

/// <summary>Copy the pod label <paramref name="PodLabel"/> onto profiles as <paramref name="ProfileLabel"/>.</summary>
internal sealed record PodLabelMapping(string PodLabel, string ProfileLabel);
