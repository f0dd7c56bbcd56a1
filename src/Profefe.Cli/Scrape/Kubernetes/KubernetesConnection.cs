using k8s;
using k8s.Exceptions;
using Profefe.Cli.Commands;

namespace Profefe.Cli.Scrape.Kubernetes;

/// <summary>Connects to the Kubernetes API server the way kubectl and kprofefe find it.</summary>
internal static class KubernetesConnection
{
    /// <summary>
    /// A client from the configured kubeconfig; without one, from the pod's service account when running in a
    /// cluster, else from $KUBECONFIG (its first file) or ~/.kube/config.
    /// </summary>
    /// <exception cref="ScrapeConfigException">No usable configuration: the message says what was tried.</exception>
    public static IKubernetes CreateClient(KubernetesDiscovery discovery)
    {
        KubernetesClientConfiguration configuration;
        try
        {
            if (discovery.Kubeconfig is { } path)
            {
                configuration = KubernetesClientConfiguration.BuildConfigFromConfigFile(path, discovery.Context);
            }
            else if (KubernetesClientConfiguration.IsInCluster())
            {
                configuration = KubernetesClientConfiguration.InClusterConfig();
            }
            else
            {
                var fromEnvironment = Environment.GetEnvironmentVariable("KUBECONFIG")?.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
                configuration = KubernetesClientConfiguration.BuildConfigFromConfigFile(fromEnvironment ?? KubernetesClientConfiguration.KubeConfigDefaultLocation, discovery.Context);
            }
        }
        catch (Exception e) when (e is KubeConfigException or IOException or UnauthorizedAccessException or YamlDotNet.Core.YamlException or ArgumentException)
        {
            throw new ScrapeConfigException(
                "kubernetes: no usable cluster configuration (not running in a pod with a service account, and the kubeconfig "
                + $"{discovery.Kubeconfig ?? "from $KUBECONFIG or ~/.kube/config"} could not be used): {CommandActions.OneLine(e.Message)}",
                e);
        }

        return new k8s.Kubernetes(configuration);
    }
}
