using System.Text.RegularExpressions;
using Profefe.Cli.Arguments;
using Profefe.Cli.Commands;
using Profefe.Cli.Scrape.Kubernetes;
using Profefe.Client;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Profefe.Cli.Scrape;

/// <summary>Reads scrape.yaml and target files, and turns every mistake in them into one readable message.</summary>
internal static partial class ScrapeConfigLoader
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(10);

    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    public static ScrapeConfig Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScrapeConfigException($"{path}: {e.Message}", e);
        }

        return Parse(text, path, Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".");
    }

    public static ScrapeConfig Parse(string yaml, string source, string baseDirectory)
    {
        var model = Deserialize<ConfigModel>(yaml, source) ?? new ConfigModel();
        var defaults = model.Profiles is null
            ? [new ProfileSchedule(PprofEndpoint.Cpu, DefaultInterval, DefaultDuration), new ProfileSchedule(PprofEndpoint.Heap, DefaultInterval, TimeSpan.Zero), new ProfileSchedule(PprofEndpoint.Goroutine, DefaultInterval, TimeSpan.Zero)]
            : ReadProfiles(model.Profiles, source, "profiles");
        Uri? collector = null;
        if (!string.IsNullOrWhiteSpace(model.Collector))
        {
            try
            {
                collector = CollectorConnection.ParseAddress(model.Collector);
            }
            catch (CliUsageException e)
            {
                throw new ScrapeConfigException($"{source}: collector: {e.Message}", e);
            }
        }

        var targetFiles = new List<string>();
        foreach (var file in model.TargetFiles ?? [])
        {
            if (string.IsNullOrWhiteSpace(file))
            {
                throw new ScrapeConfigException($"{source}: target_files: an entry is empty");
            }

            targetFiles.Add(Path.GetFullPath(file, baseDirectory));
        }

        var targets = ReadTargets(model.Targets ?? [], defaults, source);
        var kubernetes = model.Kubernetes is null ? null : ReadKubernetes(model.Kubernetes, source, baseDirectory);
        if (targets.Count == 0 && targetFiles.Count == 0 && kubernetes is null)
        {
            throw new ScrapeConfigException($"{source}: no targets: list some under \"targets\", name files under \"target_files\" or discover pods under \"kubernetes\" (\"kubernetes: {{}}\" watches every namespace)");
        }

        return new ScrapeConfig(
            collector,
            ReadDuration(model.Jitter, TimeSpan.Zero, source, "jitter", allowZero: true),
            ReadDuration(model.Timeout, TimeSpan.FromSeconds(10), source, "timeout"),
            ReadDuration(model.PushTimeout, TimeSpan.FromSeconds(30), source, "push_timeout"),
            targets,
            targetFiles,
            ReadDuration(model.TargetFilesRefresh, TimeSpan.FromSeconds(10), source, "target_files_refresh"),
            defaults,
            kubernetes);
    }

    /// <summary>
    /// Reads what pod discovery annotations carry (profefe.com/profiles, profefe.com/cpu-duration) with the same
    /// rules as the config's "profiles": the kinds named, each on the interval the config gives it (else the
    /// default), cpu and trace recording for <paramref name="cpuDuration"/> when given.
    /// </summary>
    public static IReadOnlyList<ProfileSchedule> ReadAnnotatedProfiles(string? names, string? cpuDuration, IReadOnlyList<ProfileSchedule> defaults, string where)
    {
        var duration = cpuDuration is null ? (TimeSpan?)null : ReadDuration(cpuDuration, TimeSpan.Zero, where, PodTargetMapper.CpuDurationAnnotation);
        if (names is null && duration is null)
        {
            return defaults;
        }

        var schedules = new List<ProfileSchedule>();
        if (names is null)
        {
            schedules.AddRange(defaults);
        }
        else
        {
            foreach (var name in names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var endpoint = PprofEndpoint.Find(name)
                    ?? throw new ScrapeConfigException($"{where}: {PodTargetMapper.ProfilesAnnotation}: unknown profile \"{name}\" (known: {string.Join(", ", PprofEndpoint.All.Select(e => e.Name))})");
                if (!schedules.Exists(s => s.Endpoint == endpoint))
                {
                    schedules.Add(defaults.FirstOrDefault(s => s.Endpoint == endpoint)
                        ?? new ProfileSchedule(endpoint, DefaultInterval, endpoint.TakesDuration ? DefaultDuration : TimeSpan.Zero));
                }
            }

            if (schedules.Count == 0)
            {
                throw new ScrapeConfigException($"{where}: {PodTargetMapper.ProfilesAnnotation}: no profiles to take");
            }
        }

        for (var i = 0; i < schedules.Count; i++)
        {
            if (duration is { } recordFor && schedules[i].Endpoint == PprofEndpoint.Cpu)
            {
                if (recordFor > schedules[i].Interval)
                {
                    throw new ScrapeConfigException($"{where}: {PodTargetMapper.CpuDurationAnnotation}: {cpuDuration} is longer than the cpu interval {GoDuration.Format(schedules[i].Interval)}");
                }

                schedules[i] = schedules[i] with { Duration = recordFor };
            }
        }

        return schedules;
    }

    /// <summary>Reads a target file: a YAML (or JSON) list of target entries, as under "targets" in scrape.yaml.</summary>
    public static IReadOnlyList<ScrapeTarget> LoadTargetFile(string path, IReadOnlyList<ProfileSchedule> defaults)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScrapeConfigException($"{path}: {e.Message}", e);
        }

        return ReadTargets(Deserialize<List<TargetModel>>(text, path) ?? [], defaults, path);
    }

    private static T? Deserialize<T>(string yaml, string source)
    {
        try
        {
            return Yaml.Deserialize<T>(yaml);
        }
        catch (YamlException e)
        {
            throw new ScrapeConfigException($"{source}: line {e.Start.Line}: {Describe(e, yaml)}", e);
        }
    }

    /// <summary>
    /// YamlDotNet's message in the config's own words: its messages name .NET types (System.String,
    /// ScrapeConfigLoader+ConfigModel, …) that mean nothing to someone writing YAML.
    /// </summary>
    private static string Describe(YamlException e, string yaml)
    {
        // A failed conversion has the real cause in the inner exception.
        var message = CommandActions.OneLine(e.InnerException is { } inner && e.Message.StartsWith("Exception during deserialization", StringComparison.Ordinal) ? inner.Message : e.Message);
        var unknownKey = UnknownKeyMessage().Match(message);
        if (unknownKey.Success)
        {
            return $"unknown key \"{unknownKey.Groups["key"].Value}\" (known here: {string.Join(", ", KnownKeys(unknownKey.Groups["type"].Value))})";
        }

        var line = LineAt(yaml, e.Start.Line);
        var shape = ShapeMessage().Match(message);
        if (shape.Success)
        {
            return $"\"{line}\": expected {ShapeOf(shape.Groups["expected"].Value)}, found {ShapeOf(shape.Groups["found"].Value)}";
        }

        var cast = CastMessage().Match(message);
        if (cast.Success)
        {
            return $"\"{line}\": expected {ShapeOf(cast.Groups["expected"].Value)}, found {ShapeOf(cast.Groups["found"].Value)}";
        }

        var into = IntoTypeMessage().Match(message);
        if (into.Success)
        {
            return $"\"{line}\": expected {ShapeOf(into.Groups["expected"].Value)}";
        }

        return "YAML: " + PositionSuffix().Replace(message, "");
    }

    /// <summary>What a YAML event or .NET type means to someone writing the config.</summary>
    private static string ShapeOf(string typeOrEvent) => typeOrEvent switch
    {
        "MappingStart" => "key: value lines",
        "SequenceStart" => "a list",
        "Scalar" => "a single value",
        _ when typeOrEvent.StartsWith("System.Collections.Generic.List", StringComparison.Ordinal) => "a list",
        _ when typeOrEvent.StartsWith("System.Collections.Generic.Dictionary", StringComparison.Ordinal) || typeOrEvent.Contains("Model", StringComparison.Ordinal) => "key: value lines",
        _ when typeOrEvent.StartsWith("System.Boolean", StringComparison.Ordinal) => "true or false",
        _ => "a single value",
    };

    private static IEnumerable<string> KnownKeys(string typeName)
    {
        var type = new[] { typeof(ConfigModel), typeof(TargetModel), typeof(ProfileModel) }.FirstOrDefault(t => t.FullName == typeName);
        return type is null ? [] : type.GetProperties().Select(p => UnderscoredNamingConvention.Instance.Apply(p.Name));
    }

    private static string LineAt(string yaml, long lineNumber)
    {
        var lines = yaml.ReplaceLineEndings("\n").Split('\n');
        return lineNumber >= 1 && lineNumber <= lines.Length ? lines[lineNumber - 1].Trim() : "";
    }

    [GeneratedRegex("^Property '(?<key>[^']*)' not found on type '(?<type>[^']*)'")]
    private static partial Regex UnknownKeyMessage();

    [GeneratedRegex("^Expected '(?<expected>[A-Za-z]+)', got '(?<found>[A-Za-z]+)'")]
    private static partial Regex ShapeMessage();

    [GeneratedRegex("^Invalid cast from '(?<found>[^']*)' to '(?<expected>[^']*)'")]
    private static partial Regex CastMessage();

    [GeneratedRegex("^No node deserializer was able to deserialize the node into type (?<expected>.*)$")]
    private static partial Regex IntoTypeMessage();

    [GeneratedRegex(@" ?\(at Line: \d+, Col: \d+, Idx: \d+\)\.?")]
    private static partial Regex PositionSuffix();

    private static List<ScrapeTarget> ReadTargets(IReadOnlyList<TargetModel?> models, IReadOnlyList<ProfileSchedule> defaults, string source)
    {
        var targets = new List<ScrapeTarget>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < models.Count; i++)
        {
            var where = $"targets[{i}]";
            var model = models[i] ?? throw new ScrapeConfigException($"{source}: {where}: the entry is empty");
            if (string.IsNullOrWhiteSpace(model.Service))
            {
                throw new ScrapeConfigException($"{source}: {where}: \"service\" is required");
            }

            var urls = new List<string>();
            if (!string.IsNullOrWhiteSpace(model.Url))
            {
                urls.Add(model.Url);
            }

            urls.AddRange(model.Urls ?? []);
            if (urls.Count == 0)
            {
                throw new ScrapeConfigException($"{source}: {where}: \"url\" (or \"urls\") is required");
            }

            var labels = new List<ProfileLabel>();
            foreach (var (key, value) in model.Labels ?? [])
            {
                if (string.IsNullOrWhiteSpace(key))
                {
                    throw new ScrapeConfigException($"{source}: {where}: a label has an empty key");
                }

                labels.Add(new ProfileLabel(key.Trim(), (value ?? "").Trim()));
            }

            labels.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            var profiles = model.Profiles is null ? defaults : ReadProfiles(model.Profiles, source, where + ".profiles");
            foreach (var url in urls)
            {
                var target = new ScrapeTarget(ReadBaseUrl(url, source, where), model.Service.Trim(), labels, profiles);
                if (seen.Add(target.BaseUrl.AbsoluteUri + "|" + target.Service))
                {
                    targets.Add(target);
                }
            }
        }

        return targets;
    }

    private static KubernetesDiscovery ReadKubernetes(KubernetesModel model, string source, string baseDirectory)
    {
        var namespaces = new List<string>();
        foreach (var name in model.Namespaces ?? [])
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new ScrapeConfigException($"{source}: kubernetes.namespaces: an entry is empty (leave the list out to watch every namespace)");
            }

            if (!namespaces.Contains(name.Trim()))
            {
                namespaces.Add(name.Trim());
            }
        }

        var mappings = new List<PodLabelMapping>();
        foreach (var (podLabel, profileLabel) in model.PodLabels ?? [])
        {
            var key = string.IsNullOrWhiteSpace(profileLabel) ? podLabel?.Trim() : profileLabel.Trim();
            if (string.IsNullOrWhiteSpace(podLabel) || string.IsNullOrEmpty(key))
            {
                throw new ScrapeConfigException($"{source}: kubernetes.pod_labels: an entry has an empty key");
            }

            if (PodTargetMapper.DiscoveryLabels.Contains(key))
            {
                throw new ScrapeConfigException($"{source}: kubernetes.pod_labels: \"{key}\" is a label discovery sets itself ({string.Join(", ", PodTargetMapper.DiscoveryLabels)}); map {podLabel} to another name");
            }

            mappings.Add(new PodLabelMapping(podLabel.Trim(), key));
        }

        var kubeconfig = string.IsNullOrWhiteSpace(model.Kubeconfig) ? null : model.Kubeconfig.Trim();
        if (kubeconfig is not null && kubeconfig.StartsWith("~/", StringComparison.Ordinal))
        {
            kubeconfig = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), kubeconfig[2..]);
        }

        return new KubernetesDiscovery(
            kubeconfig is null ? null : Path.GetFullPath(kubeconfig, baseDirectory),
            string.IsNullOrWhiteSpace(model.Context) ? null : model.Context.Trim(),
            namespaces,
            string.IsNullOrWhiteSpace(model.LabelSelector) ? null : model.LabelSelector.Trim(),
            mappings,
            ReadDuration(model.WatchTimeout, TimeSpan.FromMinutes(5), source, "kubernetes.watch_timeout"));
    }

    private static Uri ReadBaseUrl(string text, string source, string where)
    {
        var url = text.Trim();
        if (!url.Contains("://", StringComparison.Ordinal))
        {
            url = "http://" + url;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ScrapeConfigException($"{source}: {where}: invalid url \"{text}\" (expected http://host:port/debug/pprof/)");
        }

        // A bare host:port means Go's usual place for the pprof index.
        var path = uri.AbsolutePath == "/" ? "/debug/pprof/" : uri.AbsolutePath.EndsWith('/') ? uri.AbsolutePath : uri.AbsolutePath + "/";
        return new UriBuilder(uri) { Path = path, Query = "" }.Uri;
    }

    private static List<ProfileSchedule> ReadProfiles(Dictionary<string, ProfileModel?> models, string source, string where)
    {
        var schedules = new List<ProfileSchedule>();
        foreach (var (name, model) in models)
        {
            var endpoint = PprofEndpoint.Find(name)
                ?? throw new ScrapeConfigException($"{source}: {where}: unknown profile \"{name}\" (known: {string.Join(", ", PprofEndpoint.All.Select(e => e.Name))})");
            if (model?.Enabled == false)
            {
                continue;
            }

            if (schedules.Exists(s => s.Endpoint == endpoint))
            {
                throw new ScrapeConfigException($"{source}: {where}: profile \"{name}\" is listed twice");
            }

            var interval = ReadDuration(model?.Interval, DefaultInterval, source, $"{where}.{name}.interval");
            var duration = endpoint.TakesDuration
                ? ReadDuration(model?.Duration, endpoint == PprofEndpoint.Trace ? TimeSpan.FromSeconds(1) : DefaultDuration, source, $"{where}.{name}.duration")
                : TimeSpan.Zero;
            if (!endpoint.TakesDuration && model?.Duration is not null)
            {
                throw new ScrapeConfigException($"{source}: {where}.{name}: \"duration\" only applies to cpu and trace");
            }

            if (duration > interval)
            {
                throw new ScrapeConfigException($"{source}: {where}.{name}: duration {GoDuration.Format(duration)} is longer than interval {GoDuration.Format(interval)}");
            }

            schedules.Add(new ProfileSchedule(endpoint, interval, duration));
        }

        if (schedules.Count == 0)
        {
            throw new ScrapeConfigException($"{source}: {where}: no profiles to take");
        }

        return schedules;
    }

    private static TimeSpan ReadDuration(string? text, TimeSpan fallback, string source, string key, bool allowZero = false)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (!GoDuration.TryParse(text, out var duration) || duration < TimeSpan.Zero || (duration == TimeSpan.Zero && !allowZero))
        {
            throw new ScrapeConfigException($"{source}: {key}: invalid duration \"{text}\" (examples: 30s, 5m, 1h30m)");
        }

        return duration;
    }

    // YamlDotNet fills these; unknown keys are errors, so typos do not pass silently.
    private sealed class ConfigModel
    {
        public string? Collector { get; set; }

        public string? Jitter { get; set; }

        public string? Timeout { get; set; }

        public string? PushTimeout { get; set; }

        public Dictionary<string, ProfileModel?>? Profiles { get; set; }

        public List<TargetModel?>? Targets { get; set; }

        public List<string>? TargetFiles { get; set; }

        public string? TargetFilesRefresh { get; set; }

        public KubernetesModel? Kubernetes { get; set; }
    }

    private sealed class KubernetesModel
    {
        public string? Kubeconfig { get; set; }

        public string? Context { get; set; }

        public List<string>? Namespaces { get; set; }

        public string? LabelSelector { get; set; }

        public Dictionary<string, string?>? PodLabels { get; set; }

        public string? WatchTimeout { get; set; }
    }

    private sealed class TargetModel
    {
        public string? Url { get; set; }

        public List<string>? Urls { get; set; }

        public string? Service { get; set; }

        public Dictionary<string, string?>? Labels { get; set; }

        public Dictionary<string, ProfileModel?>? Profiles { get; set; }
    }

    private sealed class ProfileModel
    {
        public string? Interval { get; set; }

        public string? Duration { get; set; }

        public bool? Enabled { get; set; }
    }
}

/// <summary>The scrape config or a target file is wrong; the message names the file and the place.</summary>
internal sealed class ScrapeConfigException : Exception
{
    public ScrapeConfigException()
    {
    }

    public ScrapeConfigException(string message)
        : base(message)
    {
    }

    public ScrapeConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
