using Profefe.Cli.Scrape;
using Profefe.Client;

namespace Profefe.Cli.Tests.Scrape;

public sealed class ScrapeConfigLoaderTests
{
    [Fact]
    public void Parse_ReadsFullConfig()
    {
        const string Yaml = """
            collector: http://collector:10100
            jitter: 5s
            timeout: 15s
            push_timeout: 1m
            profiles:
              cpu: { interval: 1m, duration: 10s }
              heap: { interval: 30s }
              allocs: { interval: 5m }
              trace: { interval: 10m, duration: 2s }
              block: { enabled: false }
            targets:
              - url: http://10.0.0.5:6060/debug/pprof/
                service: billing
                labels: { zone: a, env: prod }
              - urls: [10.0.0.6:6060, "http://10.0.0.7:6060/custom/pprof"]
                service: search
                profiles:
                  goroutine: {}
            target_files: [targets.yaml, /etc/profefe/more.yaml]
            target_files_refresh: 30s
            """;

        var config = ScrapeConfigLoader.Parse(Yaml, "scrape.yaml", "/conf");

        Assert.Equal(new Uri("http://collector:10100/"), config.Collector);
        Assert.Equal(TimeSpan.FromSeconds(5), config.Jitter);
        Assert.Equal(TimeSpan.FromSeconds(15), config.Timeout);
        Assert.Equal(TimeSpan.FromMinutes(1), config.PushTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), config.TargetFilesRefresh);
        Assert.Equal(["/conf/targets.yaml", "/etc/profefe/more.yaml"], config.TargetFiles);
        Assert.Equal(
            [
                new ProfileSchedule(PprofEndpoint.Cpu, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(10)),
                new ProfileSchedule(PprofEndpoint.Heap, TimeSpan.FromSeconds(30), TimeSpan.Zero),
                new ProfileSchedule(PprofEndpoint.Allocs, TimeSpan.FromMinutes(5), TimeSpan.Zero),
                new ProfileSchedule(PprofEndpoint.Trace, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(2)),
            ],
            config.Defaults);
        Assert.Equal(3, config.Targets.Count);
        var billing = config.Targets[0];
        Assert.Equal(new Uri("http://10.0.0.5:6060/debug/pprof/"), billing.BaseUrl);
        Assert.Equal("billing", billing.Service);
        Assert.Equal([new ProfileLabel("env", "prod"), new ProfileLabel("zone", "a")], billing.Labels);
        Assert.Same(config.Defaults, billing.Profiles);
        Assert.Equal(new Uri("http://10.0.0.6:6060/debug/pprof/"), config.Targets[1].BaseUrl);
        Assert.Equal(new Uri("http://10.0.0.7:6060/custom/pprof/"), config.Targets[2].BaseUrl);
        Assert.Equal([new ProfileSchedule(PprofEndpoint.Goroutine, ScrapeConfigLoader.DefaultInterval, TimeSpan.Zero)], config.Targets[2].Profiles);
    }

    [Fact]
    public void Load_AcceptsTheShippedExampleConfig()
    {
        var path = Path.Combine(Profefe.Testing.TestData.RepoRoot, "src", "Profefe.Cli", "scrape.example.yaml");

        var config = ScrapeConfigLoader.Load(path);

        Assert.Equal(3, config.Targets.Count);
        Assert.Equal(["cpu", "heap", "goroutine", "trace"], config.Defaults.Select(p => p.Endpoint.Name));
        Assert.Equal([Path.Combine(Path.GetDirectoryName(path)!, "targets.d", "kubernetes.yaml")], config.TargetFiles);
    }

    [Fact]
    public void Parse_UsesDefaults_WhenOnlyTargetsGiven()
    {
        var config = ScrapeConfigLoader.Parse("targets: [{url: 'localhost:6060', service: app}]", "scrape.yaml", "/");

        Assert.Null(config.Collector);
        Assert.Equal(TimeSpan.Zero, config.Jitter);
        Assert.Equal(["cpu", "heap", "goroutine"], config.Defaults.Select(p => p.Endpoint.Name));
        Assert.Equal(TimeSpan.FromSeconds(10), config.Defaults[0].Duration);
    }

    [Theory]
    [InlineData("targets: [{url: 'localhost:6060'}]", "scrape.yaml: targets[0]: \"service\" is required")]
    [InlineData("targets: [{service: app}]", "scrape.yaml: targets[0]: \"url\" (or \"urls\") is required")]
    [InlineData("targets: [{url: 'ftp://x', service: app}]", "scrape.yaml: targets[0]: invalid url \"ftp://x\"")]
    [InlineData("profiles: {cpux: {}}\ntargets: [{url: 'x:1', service: a}]", "scrape.yaml: profiles: unknown profile \"cpux\"")]
    [InlineData("profiles: {heap: {interval: soon}}\ntargets: [{url: 'x:1', service: a}]", "scrape.yaml: profiles.heap.interval: invalid duration \"soon\"")]
    [InlineData("profiles: {heap: {duration: 1s}}\ntargets: [{url: 'x:1', service: a}]", "scrape.yaml: profiles.heap: \"duration\" only applies to cpu and trace")]
    [InlineData("profiles: {cpu: {interval: 5s, duration: 10s}}\ntargets: [{url: 'x:1', service: a}]", "scrape.yaml: profiles.cpu: duration 10s is longer than interval 5s")]
    [InlineData("jitter: -1s\ntargets: [{url: 'x:1', service: a}]", "scrape.yaml: jitter: invalid duration \"-1s\"")]
    [InlineData("collector: 'ftp://x'\ntargets: [{url: 'x:1', service: a}]", "scrape.yaml: collector: invalid collector address")]
    [InlineData("tragets: []", "scrape.yaml: line 1:")]
    [InlineData("targets: [", "scrape.yaml: line")]
    [InlineData("jitter: 1s", "scrape.yaml: no targets")]
    public void Parse_ThrowsMessageNamingThePlace_WhenConfigIsWrong(string yaml, string expectedStart)
    {
        var e = Assert.Throws<ScrapeConfigException>(() => ScrapeConfigLoader.Parse(yaml, "scrape.yaml", "/"));

        Assert.StartsWith(expectedStart, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("targets: foo", "line 1: \"targets: foo\": expected a list, found a single value")]
    [InlineData("profiles: [cpu]\ntargets: [{url: 'x:1', service: a}]", "line 1: \"profiles: [cpu]\": expected key: value lines, found a list")]
    [InlineData("colector: x\ntargets: [{url: 'x:1', service: a}]", "line 1: unknown key \"colector\" (known here: collector, jitter, timeout, push_timeout, profiles, targets, target_files, target_files_refresh, kubernetes)")]
    [InlineData("targets:\n  - url: x:1\n    service: a\n    label: {a: b}", "line 4: unknown key \"label\" (known here: url, urls, service, labels, profiles)")]
    [InlineData("targets:\n  - url: x:1\n    service: [s]", "line 3: \"service: [s]\": expected a single value")]
    [InlineData("targets:\n  - url: x:1\n    service: s\n    labels: [a]", "line 4: \"labels: [a]\": expected key: value lines, found a list")]
    [InlineData("- a\n- b", "line 1: \"- a\": expected key: value lines")]
    [InlineData("targets:\n  - url: x:1\n   service: s", "line 3: YAML: While parsing a block collection, did not find expected '-' indicator.")]
    public void Parse_SaysInYamlTermsWhatWasExpected_WhenTheShapeIsWrong(string yaml, string expected)
    {
        var e = Assert.Throws<ScrapeConfigException>(() => ScrapeConfigLoader.Parse(yaml, "scrape.yaml", "/"));

        Assert.Equal("scrape.yaml: " + expected, e.Message);
    }

    [Fact]
    public void LoadTargetFile_ReadsListOfTargets_WithDefaultsOfTheConfig()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, """[{"url": "http://10.1.2.3:6060/debug/pprof/", "service": "api", "labels": {"pod": "api-1"}}]""");
            IReadOnlyList<ProfileSchedule> defaults = [new ProfileSchedule(PprofEndpoint.Heap, TimeSpan.FromSeconds(10), TimeSpan.Zero)];

            var targets = ScrapeConfigLoader.LoadTargetFile(path, defaults);

            var target = Assert.Single(targets);
            Assert.Equal("api", target.Service);
            Assert.Equal([new ProfileLabel("pod", "api-1")], target.Labels);
            Assert.Same(defaults, target.Profiles);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("cpu", "http://h:1/debug/pprof/profile?seconds=10")]
    [InlineData("profile", "http://h:1/debug/pprof/profile?seconds=10")]
    [InlineData("trace", "http://h:1/debug/pprof/trace?seconds=10")]
    [InlineData("heap", "http://h:1/debug/pprof/heap")]
    [InlineData("allocs", "http://h:1/debug/pprof/allocs")]
    [InlineData("goroutine", "http://h:1/debug/pprof/goroutine")]
    public void PprofEndpoint_BuildsGoPprofUrls(string name, string expected)
    {
        var endpoint = PprofEndpoint.Find(name)!;

        Assert.Equal(new Uri(expected), endpoint.UrlFor(new Uri("http://h:1/debug/pprof/"), TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData("cpu", "cpu")]
    [InlineData("heap", "heap")]
    [InlineData("allocs", "other")]
    [InlineData("block", "block")]
    [InlineData("mutex", "mutex")]
    [InlineData("goroutine", "goroutine")]
    [InlineData("threadcreate", "threadcreate")]
    [InlineData("trace", "trace")]
    public void PprofEndpoint_MapsToProfefeTypes(string name, string profefeType)
    {
        Assert.Equal(profefeType, PprofEndpoint.Find(name)!.ProfefeType);
    }
}
