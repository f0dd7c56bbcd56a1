using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Profefe.Cli.Arguments;
using Profefe.Cli.Commands;

namespace Profefe.Cli.Scrape.Kubernetes;

/// <summary>
/// Lists, then watches, the pods of each configured namespace (or of all), and keeps the scrape targets they
/// make current: pods created, changing IP, stopping or deleted change <see cref="Targets"/> without a restart.
/// A watch resumes from the last resourceVersion it saw (bookmarks keep it fresh while nothing matching
/// changes); when the server no longer has that version (410 Gone), the namespace is listed again.
/// </summary>
internal sealed class PodWatcher
{
    /// <summary>Pods per list page: a large cluster is listed in pages instead of one huge answer.</summary>
    private const int ListPageSize = 500;

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    /// <summary>The server ends each watch after its timeout; one silent this much longer is a dead connection.</summary>
    private static readonly TimeSpan DeadWatchGrace = TimeSpan.FromSeconds(30);

    private readonly IKubernetes _client;
    private readonly KubernetesDiscovery _discovery;
    private readonly IReadOnlyList<ProfileSchedule> _defaults;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();

    // Per namespace ("" = all namespaces), the decisions on its annotated pods by uid.
    private readonly Dictionary<string, Dictionary<string, PodDecision>> _scopes = new(StringComparer.Ordinal);
    private IReadOnlyList<ScrapeTarget> _targets = [];
    private TaskCompletionSource _changed = NewSignal();

    public PodWatcher(IKubernetes client, KubernetesDiscovery discovery, IReadOnlyList<ProfileSchedule> defaults, TimeProvider time, ILogger logger)
    {
        _client = client;
        _discovery = discovery;
        _defaults = defaults;
        _time = time;
        _logger = logger;
        foreach (var scope in Scopes)
        {
            _scopes[scope] = new Dictionary<string, PodDecision>(StringComparer.Ordinal);
        }
    }

    /// <summary>The targets of the running annotated pods, sorted by URL.</summary>
    public IReadOnlyList<ScrapeTarget> Targets
    {
        get
        {
            lock (_lock)
            {
                return _targets;
            }
        }
    }

    /// <summary>Completes at the next change of <see cref="Targets"/>; take it before reading them so no change is missed.</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    private IReadOnlyList<string> Scopes => _discovery.Namespaces.Count == 0 ? [""] : _discovery.Namespaces;

    /// <summary>Watches every namespace until cancelled; failures are logged and retried, never thrown.</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(Scopes.Select(scope => Task.Run(() => WatchScopeAsync(scope, cancellationToken), CancellationToken.None)));

    /// <summary>Lists every namespace once, for a single round of scraping.</summary>
    /// <exception cref="PodDiscoveryException">The API server could not be asked or refused.</exception>
    public async Task<IReadOnlyList<ScrapeTarget>> ListAsync(CancellationToken cancellationToken)
    {
        foreach (var scope in Scopes)
        {
            try
            {
                await ListScopeAsync(scope, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OperationCanceledException)
            {
                throw new PodDiscoveryException($"listing the pods of {ScopeName(scope)} failed: {Describe(e)}", e);
            }
        }

        return Targets;
    }

    private async Task WatchScopeAsync(string scope, CancellationToken cancellationToken)
    {
        var position = new WatchPosition();
        var delay = FirstRetryDelay;
        var scopeName = ScopeName(scope);
        while (!cancellationToken.IsCancellationRequested)
        {
            var eventsBefore = position.Events;
            try
            {
                position.ResourceVersion ??= await ListScopeAsync(scope, cancellationToken).ConfigureAwait(false);
                var started = _time.GetTimestamp();
                await WatchAsync(scope, position, cancellationToken).ConfigureAwait(false);
                Log.PodWatchEnded(_logger, scopeName, position.ResourceVersion);
                delay = FirstRetryDelay;
                if (_time.GetElapsedTime(started) < FirstRetryDelay)
                {
                    // A server that ends every watch at once must not be asked again in a tight loop.
                    await Task.Delay(FirstRetryDelay, _time, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (IsGone(e) && position.ResourceVersion is { } expired)
            {
                Log.PodWatchExpired(_logger, scopeName, expired);
                position.ResourceVersion = null;
            }
            catch (Exception e)
            {
                // Exponential backoff with jitter: the API server may be restarting, or RBAC not granted yet. The
                // watch then resumes from the last resourceVersion it saw, so nothing in between is missed. A
                // watch that delivered events was healthy: its loss starts the backoff afresh.
                if (position.Events != eventsBefore)
                {
                    delay = FirstRetryDelay;
                }

                var wait = delay + TimeSpan.FromTicks(Random.Shared.NextInt64(delay.Ticks / 2 + 1));
                var error = Describe(e);
                Log.PodWatchFailed(_logger, scopeName, wait, error);
                try
                {
                    await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = delay * 2 < MaxRetryDelay ? delay * 2 : MaxRetryDelay;
            }
        }
    }

    /// <summary>Lists the scope's pods, page by page, replaces what is known of it, and returns the list's resourceVersion.</summary>
    private async Task<string> ListScopeAsync(string scope, CancellationToken cancellationToken)
    {
        var pods = new List<V1Pod>();
        string? continueToken = null;
        string? resourceVersion;
        do
        {
            var page = scope.Length == 0
                ? await _client.CoreV1.ListPodForAllNamespacesAsync(continueParameter: continueToken, labelSelector: _discovery.LabelSelector, limit: ListPageSize, cancellationToken: cancellationToken).ConfigureAwait(false)
                : await _client.CoreV1.ListNamespacedPodAsync(scope, continueParameter: continueToken, labelSelector: _discovery.LabelSelector, limit: ListPageSize, cancellationToken: cancellationToken).ConfigureAwait(false);
            pods.AddRange(page.Items ?? []);
            resourceVersion = page.Metadata?.ResourceVersion;
            continueToken = page.Metadata?.ContinueProperty;
        }
        while (!string.IsNullOrEmpty(continueToken));

        if (string.IsNullOrEmpty(resourceVersion))
        {
            throw new PodDiscoveryException($"the pod list of {ScopeName(scope)} has no resourceVersion to watch from");
        }

        var decisions = new Dictionary<string, PodDecision>(StringComparer.Ordinal);
        foreach (var pod in pods)
        {
            var decision = PodTargetMapper.Map(pod, _discovery, _defaults);
            if (decision.Verdict != PodVerdict.NotAnnotated)
            {
                decisions[Uid(pod)] = decision;
            }
        }

        bool changed;
        var reports = new List<(V1Pod Pod, PodDecision Decision)>();
        lock (_lock)
        {
            var known = _scopes[scope];
            foreach (var pod in pods)
            {
                if (decisions.TryGetValue(Uid(pod), out var decision) && !SameReport(known.GetValueOrDefault(Uid(pod)), decision))
                {
                    reports.Add((pod, decision));
                }
            }

            changed = !TargetKeys(known.Values).SetEquals(TargetKeys(decisions.Values));
            _scopes[scope] = decisions;
            if (changed)
            {
                RebuildTargets();
            }
        }

        foreach (var (pod, decision) in reports)
        {
            Report(pod, decision);
        }

        var scraped = 0;
        foreach (var decision in decisions.Values)
        {
            scraped += decision.Target is null ? 0 : 1;
        }

        var scopeName = ScopeName(scope);
        Log.PodsListed(_logger, scopeName, decisions.Count, scraped, resourceVersion);
        if (changed)
        {
            Signal();
        }

        return resourceVersion;
    }

    /// <summary>Applies the events of one watch until the server ends it, moving <paramref name="position"/> on with each.</summary>
    private async Task WatchAsync(string scope, WatchPosition position, CancellationToken cancellationToken)
    {
        var resourceVersion = position.ResourceVersion;
        var timeoutSeconds = (int)Math.Max(1, _discovery.WatchTimeout.TotalSeconds);
        using var deadline = new CancellationTokenSource(_discovery.WatchTimeout + DeadWatchGrace, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        Exception? failure = null;
        var events = scope.Length == 0
            ? _client.CoreV1.WatchListPodForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: _discovery.LabelSelector, resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds, onError: e => failure ??= e, cancellationToken: linked.Token)
            : _client.CoreV1.WatchListNamespacedPodAsync(scope, allowWatchBookmarks: true, labelSelector: _discovery.LabelSelector, resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds, onError: e => failure ??= e, cancellationToken: linked.Token);
        try
        {
            await foreach (var (type, pod) in events.ConfigureAwait(false))
            {
                switch (type)
                {
                    case WatchEventType.Added or WatchEventType.Modified:
                        Apply(scope, pod, deleted: false);
                        break;
                    case WatchEventType.Deleted:
                        Apply(scope, pod, deleted: true);
                        break;
                    default:
                        // A bookmark only moves the resourceVersion on, so a later watch need not start from an old one.
                        break;
                }

                position.Events++;
                if (!string.IsNullOrEmpty(pod?.Metadata?.ResourceVersion))
                {
                    position.ResourceVersion = pod.Metadata.ResourceVersion;
                }
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsEmptyWatch(e))
        {
            // The server ended the watch before sending anything: the same as ending it after its timeout.
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && deadline.IsCancellationRequested)
        {
            throw new PodDiscoveryException($"the watch sent nothing for {GoDuration.Format(_discovery.WatchTimeout + DeadWatchGrace)}, longer than its own timeout: the connection is dead");
        }

        // An ERROR event (a Status, e.g. 410 Gone) ends the watch; the server closes the stream after it.
        if (failure is not null)
        {
            throw failure;
        }
    }

    private void Apply(string scope, V1Pod pod, bool deleted)
    {
        var uid = Uid(pod);
        var decision = deleted ? PodDecision.NotAnnotated : PodTargetMapper.Map(pod, _discovery, _defaults);
        bool changed;
        bool report;
        lock (_lock)
        {
            var known = _scopes[scope];
            var previous = known.GetValueOrDefault(uid);
            if (decision.Verdict == PodVerdict.NotAnnotated)
            {
                known.Remove(uid);
            }
            else
            {
                known[uid] = decision;
            }

            changed = previous?.Target?.Key != decision.Target?.Key;
            report = !SameReport(previous, decision);
            if (changed)
            {
                RebuildTargets();
            }
        }

        if (report)
        {
            Report(pod, decision);
        }

        if (changed)
        {
            Signal();
        }
    }

    private void Report(V1Pod pod, PodDecision decision)
    {
        switch (decision.Verdict)
        {
            case PodVerdict.Invalid:
                Log.PodSkipped(_logger, decision.Problem!);
                break;
            case PodVerdict.ByAgent:
                var name = $"{pod.Metadata?.NamespaceProperty}/{pod.Metadata?.Name}";
                Log.PodProfiledByAgent(_logger, name);
                break;
            default:
                // Scraped targets are reported by the scraper when it starts them; waiting pods are not news.
                break;
        }
    }

    private void RebuildTargets()
    {
        var targets = new List<ScrapeTarget>();
        foreach (var pods in _scopes.Values)
        {
            foreach (var decision in pods.Values)
            {
                if (decision.Target is { } target)
                {
                    targets.Add(target);
                }
            }
        }

        targets.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        _targets = targets;
    }

    private void Signal() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static bool SameReport(PodDecision? previous, PodDecision next) =>
        previous is not null && previous.Verdict == next.Verdict && previous.Problem == next.Problem;

    private static HashSet<string> TargetKeys(IEnumerable<PodDecision> decisions) =>
        decisions.Where(d => d.Target is not null).Select(d => d.Target!.Key).ToHashSet(StringComparer.Ordinal);

    private static string Uid(V1Pod pod) =>
        pod.Metadata?.Uid is { Length: > 0 } uid ? uid : $"{pod.Metadata?.NamespaceProperty}/{pod.Metadata?.Name}";

    private static string ScopeName(string scope) => scope.Length == 0 ? "all namespaces" : $"namespace {scope}";

    private static bool IsGone(Exception e) => e switch
    {
        KubernetesException { Status.Code: (int)HttpStatusCode.Gone } => true,
        HttpOperationException { Response.StatusCode: HttpStatusCode.Gone } => true,
        _ => false,
    };

    private static bool IsEmptyWatch(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is EndOfStreamException)
            {
                return true;
            }
        }

        return false;
    }

    private static string Describe(Exception e) => e switch
    {
        HttpOperationException { Response: { } response } => $"the API server answered {(int)response.StatusCode} {response.StatusCode}: {Truncate(CommandActions.OneLine(response.Content ?? ""), 300)}",
        KubernetesException { Status: { } status } => $"the API server reported {status.Code} {status.Reason}: {status.Message}",
        HttpRequestException { InnerException: { } inner } => CommandActions.OneLine($"{e.Message} ({inner.Message})"),
        _ => CommandActions.OneLine(e.Message),
    };

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "…";
}

/// <summary>Where a namespace's watch has come to; kept across failed watches so the next resumes from there.</summary>
internal sealed class WatchPosition
{
    /// <summary>The last resourceVersion seen, or null when the namespace must be listed (again).</summary>
    public string? ResourceVersion { get; set; }

    /// <summary>How many watch events (bookmarks included) arrived so far.</summary>
    public long Events { get; set; }
}

/// <summary>Pods could not be listed or watched; the message says why in one line.</summary>
internal sealed class PodDiscoveryException : Exception
{
    public PodDiscoveryException()
    {
    }

    public PodDiscoveryException(string message)
        : base(message)
    {
    }

    public PodDiscoveryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
