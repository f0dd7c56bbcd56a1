using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Profefe.Cli.Scrape;
using Profefe.Testing;
using YamlDotNet.RepresentationModel;

namespace Profefe.Cli.Tests.Kubernetes;

/// <summary>
/// Static checks of deploy/kubernetes, offline: no cluster can run here. Every manifest is read for the fields
/// Kubernetes requires and the ones this deployment relies on; each kustomization is built with
/// <c>kubectl kustomize</c> (the one kubectl command that needs no API server) and the result's objects are
/// checked against each other: selectors, ports, service account, role, ConfigMap, namespace, image.
/// </summary>
public sealed class ManifestTests
{
    private static readonly string Root = Path.Combine(TestData.RepoRoot, "deploy", "kubernetes");

    public static TheoryData<string> Kustomizations { get; } = ["collector-embedded", "collector-shared", "scraper"];

    [Fact]
    public void Manifests_HaveRequiredFieldsProbesResourcesAndRbac()
    {
        var problems = new List<string>();
        var files = Directory.GetFiles(Root, "*.yaml", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) is not ("kustomization.yaml" or "scrape.yaml"))
            .Order(StringComparer.Ordinal)
            .ToList();
        var kinds = new List<string>();
        foreach (var file in files)
        {
            foreach (var manifest in Load(File.ReadAllText(file)))
            {
                var where = $"{Path.GetRelativePath(Root, file)}: {Text(manifest, "kind")} {Text(manifest, "metadata.name")}";
                kinds.Add(Text(manifest, "kind") ?? "");
                CheckObject(manifest, where, problems);
            }
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
        Assert.Contains("StatefulSet", kinds);
        Assert.Contains("ClusterRoleBinding", kinds);
        Assert.Equal(2, kinds.Count(k => k == "Service"));
    }

    [Fact]
    public void ScraperConfig_IsAValidScrapeConfigThatDiscoversPods()
    {
        var path = Path.Combine(Root, "scraper", "scrape.yaml");

        var config = ScrapeConfigLoader.Load(path);

        Assert.NotNull(config.Kubernetes);
        Assert.Empty(config.Kubernetes.Namespaces);
        Assert.Null(config.Kubernetes.Kubeconfig);
        Assert.Equal(new Uri("http://profefe-collector:10100/"), config.Collector);
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Kustomization_BuildsWithKubectl_IntoObjectsThatReferToEachOther(string directory)
    {
        var kubectl = ExternalDependency.RequireExecutable("kubectl", "apt-get install kubernetes-client");
        var start = new ProcessStartInfo(kubectl, ["kustomize", Path.Combine(Root, directory)]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["KUBECONFIG"] = "/nonexistent";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, $"kubectl kustomize {directory}: {await stderr}");

        var objects = Load(output);
        var problems = new List<string>();
        CheckReferences(objects, problems);

        Assert.True(problems.Count == 0, string.Join('\n', problems) + "\n" + output);
        Assert.Contains(objects, o => Text(o, "kind") is "Deployment" or "StatefulSet");
    }

    private static void CheckObject(YamlMappingNode manifest, string where, List<string> problems)
    {
        foreach (var field in new[] { "apiVersion", "kind", "metadata.name" })
        {
            Require(Text(manifest, field) is { Length: > 0 }, $"{where}: {field} is missing", problems);
        }

        switch (Text(manifest, "kind"))
        {
            case "Deployment" or "StatefulSet":
                CheckWorkload(manifest, where, problems);
                break;
            case "ClusterRole":
                var rules = Sequence(manifest, "rules");
                Require(
                    rules.OfType<YamlMappingNode>().Any(r => Strings(r, "apiGroups").Contains("") && Strings(r, "resources").Contains("pods")
                        && new[] { "get", "list", "watch" }.All(Strings(r, "verbs").Contains)),
                    $"{where}: no rule grants get, list and watch on pods",
                    problems);
                break;
            case "Secret":
                foreach (var key in Mapping(manifest, "stringData")?.Children.Keys.Select(k => k.ToString()) ?? [])
                {
                    Require(key.StartsWith("PROFEFE_Storage__", StringComparison.Ordinal), $"{where}: {key} is not a storage setting", problems);
                }

                break;
            default:
                break;
        }
    }

    private static void CheckWorkload(YamlMappingNode workload, string where, List<string> problems)
    {
        var selector = Mapping(workload, "spec.selector.matchLabels");
        var labels = Mapping(workload, "spec.template.metadata.labels");
        Require(selector is not null && selector.Children.Count > 0, $"{where}: spec.selector.matchLabels is missing", problems);
        foreach (var (key, value) in selector?.Children ?? Enumerable.Empty<KeyValuePair<YamlNode, YamlNode>>())
        {
            Require(labels is not null && labels.Children.TryGetValue(key, out var label) && label.ToString() == value.ToString(), $"{where}: the pod template lacks the selector's label {key}={value}", problems);
        }

        var containers = Sequence(workload, "spec.template.spec.containers").OfType<YamlMappingNode>().ToList();
        Require(containers.Count > 0, $"{where}: no containers", problems);
        foreach (var container in containers)
        {
            var name = $"{where}: container {Text(container, "name")}";
            Require(Text(container, "image") is { Length: > 0 }, $"{name}: no image", problems);
            Require(Text(container, "resources.requests.cpu") is not null && Text(container, "resources.requests.memory") is not null, $"{name}: no cpu and memory requests", problems);
            if (Text(container, "name") != "collector")
            {
                continue;
            }

            Require(Text(container, "readinessProbe.httpGet.path") == "/health", $"{name}: the readiness probe is not GET /health", problems);
            Require(Text(container, "livenessProbe.httpGet.path") is not null, $"{name}: no liveness probe", problems);
            Require(Sequence(container, "ports").OfType<YamlMappingNode>().Any(p => Text(p, "name") == "http" && Text(p, "containerPort") == "10100"), $"{name}: no port http 10100", problems);
            var env = Sequence(container, "env").OfType<YamlMappingNode>().ToDictionary(e => Text(e, "name")!, e => Text(e, "value"));
            Require(env.GetValueOrDefault("PROFEFE_Collector__Address") == ":10100", $"{name}: does not listen on every interface (PROFEFE_Collector__Address: \":10100\")", problems);
            var storage = env.GetValueOrDefault("PROFEFE_Storage__Type") ?? "";
            Require(storage.Split(',').All(StorageServiceCollectionExtensions.SupportedStorageTypes.Contains), $"{name}: PROFEFE_Storage__Type \"{storage}\" is not a storage type", problems);
            if (storage == "local")
            {
                var directory = env.GetValueOrDefault("PROFEFE_Storage__Local__DataDirectory");
                var claims = Sequence(workload, "spec.volumeClaimTemplates").OfType<YamlMappingNode>().Select(c => Text(c, "metadata.name")).ToHashSet();
                Require(
                    Sequence(container, "volumeMounts").OfType<YamlMappingNode>().Any(m => Text(m, "mountPath") == directory && claims.Contains(Text(m, "name"))),
                    $"{name}: the data directory {directory} is not on a volume claim",
                    problems);
            }
        }
    }

    private static void CheckReferences(List<YamlMappingNode> objects, List<string> problems)
    {
        string Id(YamlMappingNode o) => $"{Text(o, "kind")} {Text(o, "metadata.name")}";
        var named = objects.ToLookup(o => (Text(o, "kind"), Text(o, "metadata.name")));
        foreach (var o in objects.Where(o => Text(o, "kind") is not ("ClusterRole" or "ClusterRoleBinding")))
        {
            Require(Text(o, "metadata.namespace") == "profefe", $"{Id(o)}: not in namespace profefe", problems);
        }

        var workloads = objects.Where(o => Text(o, "kind") is "Deployment" or "StatefulSet").ToList();
        foreach (var workload in workloads)
        {
            var pod = Mapping(workload, "spec.template.spec")!;
            foreach (var container in Sequence(pod, "containers").OfType<YamlMappingNode>())
            {
                Require(Text(container, "image") == "profefe:0.1.0", $"{Id(workload)}: image {Text(container, "image")}, not the kustomization's profefe:0.1.0", problems);
            }

            if (Text(pod, "serviceAccountName") is { } account)
            {
                Require(named[("ServiceAccount", account)].Any(), $"{Id(workload)}: service account {account} is not defined", problems);
                var bindings = objects.Where(o => Text(o, "kind") == "ClusterRoleBinding"
                    && Sequence(o, "subjects").OfType<YamlMappingNode>().Any(s => Text(s, "kind") == "ServiceAccount" && Text(s, "name") == account && Text(s, "namespace") == "profefe"));
                Require(bindings.Any(b => named[("ClusterRole", Text(b, "roleRef.name"))].Any()), $"{Id(workload)}: no ClusterRoleBinding gives {account} a defined ClusterRole", problems);
            }

            foreach (var volume in Sequence(pod, "volumes").OfType<YamlMappingNode>())
            {
                if (Text(volume, "configMap.name") is { } configMap)
                {
                    Require(named[("ConfigMap", configMap)].Any(), $"{Id(workload)}: ConfigMap {configMap} is not defined", problems);
                }
            }

            if (Text(workload, "kind") == "StatefulSet")
            {
                Require(named[("Service", Text(workload, "spec.serviceName"))].Any(), $"{Id(workload)}: serviceName {Text(workload, "spec.serviceName")} is not a Service here", problems);
            }
        }

        foreach (var service in objects.Where(o => Text(o, "kind") == "Service"))
        {
            var selector = Mapping(service, "spec.selector")!.Children.ToDictionary(c => c.Key.ToString(), c => c.Value.ToString());
            // Label keys have dots of their own: look them up in the labels, not by path.
            var backends = workloads.Where(w => selector.All(s => Mapping(w, "spec.template.metadata.labels") is { } labels
                && labels.Children.TryGetValue(new YamlScalarNode(s.Key), out var value) && value.ToString() == s.Value)).ToList();
            Require(backends.Count == 1, $"{Id(service)}: its selector matches {backends.Count} workloads", problems);
            foreach (var port in Sequence(service, "spec.ports").OfType<YamlMappingNode>())
            {
                var target = Text(port, "targetPort");
                Require(
                    backends.Any(w => Sequence(w, "spec.template.spec.containers").OfType<YamlMappingNode>().SelectMany(c => Sequence(c, "ports").OfType<YamlMappingNode>()).Any(p => Text(p, "name") == target)),
                    $"{Id(service)}: targetPort {target} is no container's port",
                    problems);
            }
        }
    }

    private static List<YamlMappingNode> Load(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
    }

    private static YamlNode? Node(YamlNode root, string path)
    {
        var node = root;
        foreach (var part in path.Split('.'))
        {
            if (node is not YamlMappingNode mapping || !mapping.Children.TryGetValue(new YamlScalarNode(part), out var child))
            {
                return null;
            }

            node = child;
        }

        return node;
    }

    private static string? Text(YamlNode root, string path) => (Node(root, path) as YamlScalarNode)?.Value;

    private static YamlMappingNode? Mapping(YamlNode root, string path) => Node(root, path) as YamlMappingNode;

    private static IEnumerable<YamlNode> Sequence(YamlNode root, string path) => (Node(root, path) as YamlSequenceNode)?.Children ?? [];

    private static List<string> Strings(YamlNode root, string path) => Sequence(root, path).OfType<YamlScalarNode>().Select(n => n.Value ?? "").ToList();

    private static void Require(bool condition, string problem, List<string> problems)
    {
        if (!condition)
        {
            problems.Add(problem);
        }
    }
}
