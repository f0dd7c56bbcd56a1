using k8s.Models;
using Profefe.Cli.Scrape;
using Profefe.Cli.Scrape.Kubernetes;
using Profefe.Client;

namespace Profefe.Cli.Tests.Kubernetes;

public sealed class PodTargetMapperTests
{
    private static readonly IReadOnlyList<ProfileSchedule> Defaults =
    [
        new(PprofEndpoint.Cpu, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10)),
        new(PprofEndpoint.Heap, TimeSpan.FromMinutes(2), TimeSpan.Zero),
    ];

    private static readonly KubernetesDiscovery Discovery = new(null, null, [], null, [new PodLabelMapping("app.kubernetes.io/name", "app")], TimeSpan.FromMinutes(5));

    [Fact]
    public void Map_UsesKubeProfefeDefaults_WhenOnlyEnabled()
    {
        var decision = PodTargetMapper.Map(Pod(new() { ["profefe.com/enable"] = "true" }), Discovery, Defaults);

        Assert.Equal(PodVerdict.Scrape, decision.Verdict);
        var target = decision.Target!;
        Assert.Equal(new Uri("http://10.1.2.3:6060/debug/pprof/"), target.BaseUrl);
        Assert.Equal("api-7d9f-x2", target.Service);
        Assert.Equal([new ProfileLabel("app", "api"), new ProfileLabel("from", "kube-profefe"), new ProfileLabel("namespace", "shop"), new ProfileLabel("node", "node-1")], target.Labels);
        Assert.Same(Defaults, target.Profiles);
    }

    [Fact]
    public void Map_ReadsEveryAnnotation()
    {
        var decision = PodTargetMapper.Map(
            Pod(new()
            {
                ["profefe.com/enable"] = "true",
                ["profefe.com/port"] = "8081",
                ["profefe.com/path"] = "internal/pprof/",
                ["profefe.com/service"] = "api",
                ["profefe.com/profiles"] = "goroutine, cpu",
                ["profefe.com/cpu-duration"] = "20s",
            }),
            Discovery,
            Defaults);

        var target = decision.Target!;
        Assert.Equal(new Uri("http://10.1.2.3:8081/internal/pprof/"), target.BaseUrl);
        Assert.Equal("api", target.Service);
        Assert.Contains(new ProfileLabel("pod", "api-7d9f-x2"), target.Labels);
        Assert.Equal(
            [new ProfileSchedule(PprofEndpoint.Goroutine, ScrapeConfigLoader.DefaultInterval, TimeSpan.Zero), new ProfileSchedule(PprofEndpoint.Cpu, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(20))],
            target.Profiles);
    }

    [Fact]
    public void Map_BracketsIpv6PodAddresses()
    {
        var decision = PodTargetMapper.Map(Pod(new() { ["profefe.com/enable"] = "true" }, ip: "fd00::12"), Discovery, Defaults);

        Assert.Equal(new Uri("http://[fd00::12]:6060/debug/pprof/"), decision.Target!.BaseUrl);
    }

    [Theory]
    [InlineData("false", "Running", "10.1.2.3", false, "NotAnnotated")]
    [InlineData("True", "Running", "10.1.2.3", false, "NotAnnotated")]
    [InlineData("true", "Pending", null, false, "NotRunning")]
    [InlineData("true", "Running", null, false, "NotRunning")]
    [InlineData("true", "Succeeded", "10.1.2.3", false, "NotRunning")]
    [InlineData("true", "Running", "10.1.2.3", true, "NotRunning")]
    public void Map_ScrapesOnlyEnabledRunningPodsWithAnIp(string enabled, string phase, string? ip, bool deleting, string expected)
    {
        var pod = Pod(new() { ["profefe.com/enable"] = enabled }, phase, ip);
        pod.Metadata.DeletionTimestamp = deleting ? DateTime.UtcNow : null;

        Assert.Equal(Enum.Parse<PodVerdict>(expected), PodTargetMapper.Map(pod, Discovery, Defaults).Verdict);
    }

    [Fact]
    public void Map_LeavesDotnetPodsToTheirAgent()
    {
        var decision = PodTargetMapper.Map(Pod(new() { ["profefe.com/enable"] = "true", ["profefe.com/runtime"] = "dotnet" }), Discovery, Defaults);

        Assert.Equal(PodVerdict.ByAgent, decision.Verdict);
    }

    [Theory]
    [InlineData("profefe.com/port", "http", "pod shop/api-7d9f-x2: profefe.com/port: \"http\" is not a port number")]
    [InlineData("profefe.com/port", "70000", "pod shop/api-7d9f-x2: profefe.com/port: \"70000\" is not a port number")]
    [InlineData("profefe.com/profiles", "cpu,gc", "pod shop/api-7d9f-x2: profefe.com/profiles: unknown profile \"gc\"")]
    [InlineData("profefe.com/cpu-duration", "1m", "pod shop/api-7d9f-x2: profefe.com/cpu-duration: 1m is longer than the cpu interval 30s")]
    [InlineData("profefe.com/cpu-duration", "soon", "pod shop/api-7d9f-x2: profefe.com/cpu-duration: invalid duration \"soon\"")]
    [InlineData("profefe.com/runtime", "java", "pod shop/api-7d9f-x2: profefe.com/runtime: unknown runtime \"java\" (go or dotnet)")]
    public void Map_SaysWhatIsWrong_WithBadAnnotations(string annotation, string value, string expectedStart)
    {
        var decision = PodTargetMapper.Map(Pod(new() { ["profefe.com/enable"] = "true", [annotation] = value }), Discovery, Defaults);

        Assert.Equal(PodVerdict.Invalid, decision.Verdict);
        Assert.StartsWith(expectedStart, decision.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReadsKubernetesSection()
    {
        var config = ScrapeConfigLoader.Parse(
            """
            kubernetes:
              kubeconfig: conf/kubeconfig
              context: staging
              namespaces: [shop, billing, shop]
              label_selector: " tier=backend "
              pod_labels: { app.kubernetes.io/name: app, team: }
              watch_timeout: 2m
            """,
            "scrape.yaml",
            "/etc/profefe");

        var kubernetes = config.Kubernetes!;
        Assert.Equal("/etc/profefe/conf/kubeconfig", kubernetes.Kubeconfig);
        Assert.Equal("staging", kubernetes.Context);
        Assert.Equal(["shop", "billing"], kubernetes.Namespaces);
        Assert.Equal("tier=backend", kubernetes.LabelSelector);
        Assert.Equal([new PodLabelMapping("app.kubernetes.io/name", "app"), new PodLabelMapping("team", "team")], kubernetes.PodLabels);
        Assert.Equal(TimeSpan.FromMinutes(2), kubernetes.WatchTimeout);
        Assert.Empty(config.Targets);
    }

    [Fact]
    public void Parse_WatchesEveryNamespace_WithAnEmptyKubernetesSection()
    {
        var kubernetes = ScrapeConfigLoader.Parse("kubernetes: {}", "scrape.yaml", "/").Kubernetes!;

        Assert.Empty(kubernetes.Namespaces);
        Assert.Null(kubernetes.Kubeconfig);
        Assert.Null(kubernetes.LabelSelector);
        Assert.Equal(TimeSpan.FromMinutes(5), kubernetes.WatchTimeout);
    }

    [Theory]
    [InlineData("kubernetes: { pod_labels: { app: namespace } }", "scrape.yaml: kubernetes.pod_labels: \"namespace\" is a label discovery sets itself")]
    [InlineData("kubernetes: { namespaces: [''] }", "scrape.yaml: kubernetes.namespaces: an entry is empty")]
    [InlineData("kubernetes: { watch_timeout: 0s }", "scrape.yaml: kubernetes.watch_timeout: invalid duration \"0s\"")]
    [InlineData("kubernetes: { namespace: shop }", "scrape.yaml: line 1: ")]
    [InlineData("kubernetes:", "scrape.yaml: no targets: list some under \"targets\", name files under \"target_files\" or discover pods under \"kubernetes\" (\"kubernetes: {}\" watches every namespace)")]
    public void Parse_ThrowsMessageNamingThePlace_WhenKubernetesSectionIsWrong(string yaml, string expectedStart)
    {
        var e = Assert.Throws<ScrapeConfigException>(() => ScrapeConfigLoader.Parse(yaml, "scrape.yaml", "/"));

        Assert.StartsWith(expectedStart, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ReadsTheShippedExampleKubernetesSection()
    {
        var config = ScrapeConfigLoader.Load(Path.Combine(Profefe.Testing.TestData.RepoRoot, "src", "Profefe.Cli", "scrape.example.yaml"));

        Assert.Equal(["shop", "billing"], config.Kubernetes!.Namespaces);
        Assert.Equal("tier=backend,env!=dev", config.Kubernetes.LabelSelector);
    }

    private static V1Pod Pod(Dictionary<string, string> annotations, string phase = "Running", string? ip = "10.1.2.3") => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "api-7d9f-x2",
            NamespaceProperty = "shop",
            Uid = "0b7c2f4e-1",
            Annotations = annotations,
            Labels = new Dictionary<string, string> { ["app.kubernetes.io/name"] = "api", ["pod-template-hash"] = "7d9f" },
        },
        Spec = new V1PodSpec { NodeName = "node-1", Containers = [new V1Container { Name = "api", Image = "api:1" }] },
        Status = new V1PodStatus { Phase = phase, PodIP = ip },
    };
}
