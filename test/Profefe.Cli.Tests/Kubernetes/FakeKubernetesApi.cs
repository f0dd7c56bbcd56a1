using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Profefe.Testing;

namespace Profefe.Cli.Tests.Kubernetes;

/// <summary>
/// The pods part of a Kubernetes API server on 127.0.0.1, speaking the real server's JSON: lists
/// (GET /api/v1/pods, /api/v1/namespaces/{ns}/pods) with a resourceVersion, and watches (?watch=true) that
/// stream ADDED/MODIFIED/DELETED events from a resourceVersion, BOOKMARK events when asked for, an ERROR event
/// with a 410 Expired Status when the resourceVersion was compacted away, and end after timeoutSeconds. The
/// test drives it: pods change, history is compacted, watches are dropped or held back.
/// </summary>
internal sealed class FakeKubernetesApi : IAsyncDisposable
{
    public const string Token = "fake-service-account-token";

    private readonly WebApplication _app;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, FakePod> _pods = new(StringComparer.Ordinal);
    private readonly List<(long ResourceVersion, string Type, FakePod Pod)> _history = [];
    private readonly List<OpenWatch> _watches = [];
    private readonly ConcurrentQueue<string> _watchesFrom = new();
    private long _resourceVersion = 1000;
    private long _compactedTo;
    private int _lists;
    private int _expired;
    private TaskCompletionSource _resumed = CompletedSignal();

    private FakeKubernetesApi(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    public string Address { get; }

    public int Lists => Volatile.Read(ref _lists);

    /// <summary>The resourceVersion each watch asked to start from, in order.</summary>
    public IReadOnlyList<string> WatchesFrom => [.. _watchesFrom];

    /// <summary>How many watches are streaming now.</summary>
    public int OpenWatches
    {
        get
        {
            lock (_lock)
            {
                return _watches.Count;
            }
        }
    }

    /// <summary>How many watches were refused with 410 Expired.</summary>
    public int Expired => Volatile.Read(ref _expired);

    public long ResourceVersion
    {
        get
        {
            lock (_lock)
            {
                return _resourceVersion;
            }
        }
    }

    public static async Task<FakeKubernetesApi> StartAsync(CancellationToken cancellationToken)
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var api = new FakeKubernetesApi(app, $"http://127.0.0.1:{port}");
        app.MapGet("/api/v1/pods", context => api.ServeAsync(context, null));
        app.MapGet("/api/v1/namespaces/{namespace}/pods", context => api.ServeAsync(context, (string)context.Request.RouteValues["namespace"]!));
        await app.StartAsync(cancellationToken);
        return api;
    }

    /// <summary>A kubeconfig for a server at <paramref name="server"/> with the token this one accepts, as kubectl would use it.</summary>
    public static async Task<string> WriteKubeconfigAsync(string directory, string server, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, "kubeconfig");
        await File.WriteAllTextAsync(
            path,
            $$"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: fake
                cluster: { server: "{{server}}" }
            users:
              - name: scraper
                user: { token: {{Token}} }
            contexts:
              - name: fake
                context: { cluster: fake, user: scraper, namespace: default }
            current-context: fake
            """,
            cancellationToken);
        return path;
    }

    /// <summary>A kubeconfig for this server.</summary>
    public Task<string> WriteKubeconfigAsync(string directory, CancellationToken cancellationToken) => WriteKubeconfigAsync(directory, Address, cancellationToken);

    /// <summary>Creates the pod (ADDED) or replaces it (MODIFIED).</summary>
    public void Upsert(FakePod pod) => Publish(pod, deleted: false);

    public void Delete(FakePod pod) => Publish(pod, deleted: true);

    /// <summary>Tells every watch that asked for bookmarks how far the resourceVersion has come.</summary>
    public void Bookmark()
    {
        lock (_lock)
        {
            var bookmark = new JsonObject
            {
                ["type"] = "BOOKMARK",
                ["object"] = new JsonObject
                {
                    ["kind"] = "Pod",
                    ["apiVersion"] = "v1",
                    ["metadata"] = new JsonObject { ["resourceVersion"] = Text(_resourceVersion), ["creationTimestamp"] = null },
                    ["spec"] = new JsonObject { ["containers"] = null },
                    ["status"] = new JsonObject(),
                },
            }.ToJsonString();
            foreach (var watch in _watches.Where(w => w.Bookmarks))
            {
                watch.Lines.Writer.TryWrite(bookmark);
            }
        }
    }

    /// <summary>Forgets the history so far, as etcd compaction does: watches from an older resourceVersion get 410.</summary>
    public void Compact()
    {
        lock (_lock)
        {
            _compactedTo = _resourceVersion;
            _history.Clear();
        }
    }

    /// <summary>Cuts every open watch connection, as a restarting API server or a load balancer does.</summary>
    public void DropWatches()
    {
        lock (_lock)
        {
            foreach (var watch in _watches)
            {
                watch.Context.Abort();
            }
        }
    }

    /// <summary>Holds new watches back until <see cref="ResumeWatches"/>.</summary>
    public void HoldWatches() => Interlocked.Exchange(ref _resumed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public void ResumeWatches() => Volatile.Read(ref _resumed).TrySetResult();

    public async ValueTask DisposeAsync()
    {
        ResumeWatches();
        DropWatches();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    private static TaskCompletionSource CompletedSignal()
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        signal.SetResult();
        return signal;
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static JsonObject Status(int code, string reason, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = code,
    };

    private static Func<FakePod, bool> Selector(string? namespaceName, string? labelSelector)
    {
        // Equality-based selectors, the kind the scraper's tests use: k=v, k==v, k!=v, k.
        var requirements = (labelSelector ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return pod => (namespaceName is null || pod.Namespace == namespaceName) && requirements.All(requirement =>
        {
            var labels = pod.Labels ?? new Dictionary<string, string>();
            if (requirement.Split("!=") is [var notKey, var notValue])
            {
                return !labels.TryGetValue(notKey, out var value) || value != notValue;
            }

            var parts = requirement.Split('=', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length == 1 ? labels.ContainsKey(parts[0]) : labels.TryGetValue(parts[0], out var actual) && actual == parts[^1];
        });
    }

    private void Publish(FakePod pod, bool deleted)
    {
        lock (_lock)
        {
            var resourceVersion = ++_resourceVersion;
            var stored = pod with { ResourceVersion = resourceVersion };
            var type = deleted ? "DELETED" : _pods.ContainsKey(pod.Key) ? "MODIFIED" : "ADDED";
            if (deleted)
            {
                _pods.Remove(pod.Key);
            }
            else
            {
                _pods[pod.Key] = stored;
            }

            _history.Add((resourceVersion, type, stored));
            foreach (var watch in _watches.Where(w => w.Matches(stored)))
            {
                watch.Lines.Writer.TryWrite(Event(type, stored));
            }
        }
    }

    private static string Event(string type, FakePod pod) =>
        new JsonObject { ["type"] = type, ["object"] = pod.ToJson(withKind: true) }.ToJsonString();

    private async Task ServeAsync(HttpContext context, string? namespaceName)
    {
        if (context.Request.Headers.Authorization != $"Bearer {Token}")
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsJsonAsync(Status(401, "Unauthorized", "Unauthorized"));
            return;
        }

        var query = context.Request.Query;
        var matches = Selector(namespaceName, query["labelSelector"]);
        if (query["watch"] is ["true"] or ["1"])
        {
            await WatchAsync(context, matches, query);
            return;
        }

        Interlocked.Increment(ref _lists);
        JsonObject list;
        lock (_lock)
        {
            // Items of a list carry no kind or apiVersion, as the real server sends them.
            var items = new JsonArray([.. _pods.Values.Where(matches).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (JsonNode)p.ToJson(withKind: false))]);
            list = new JsonObject
            {
                ["kind"] = "PodList",
                ["apiVersion"] = "v1",
                ["metadata"] = new JsonObject { ["resourceVersion"] = Text(_resourceVersion) },
                ["items"] = items,
            };
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(list.ToJsonString());
    }

    private async Task WatchAsync(HttpContext context, Func<FakePod, bool> matches, IQueryCollection query)
    {
        var from = (string?)query["resourceVersion"] ?? "";
        _watchesFrom.Enqueue(from);
        await Volatile.Read(ref _resumed).Task.WaitAsync(context.RequestAborted);
        var watch = new OpenWatch(context, matches, query["allowWatchBookmarks"] is ["true"]);
        var start = long.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : -1;
        string? expired = null;
        lock (_lock)
        {
            if (start < 0)
            {
                // No resourceVersion: the current state as synthetic ADDED events, then what follows.
                foreach (var pod in _pods.Values.Where(matches))
                {
                    watch.Lines.Writer.TryWrite(Event("ADDED", pod));
                }
            }
            else if (start < _compactedTo)
            {
                expired = $"too old resource version: {start} ({_compactedTo})";
            }
            else
            {
                foreach (var (resourceVersion, type, pod) in _history.Where(e => e.ResourceVersion > start && matches(e.Pod)))
                {
                    watch.Lines.Writer.TryWrite(Event(type, pod));
                }
            }

            if (expired is null)
            {
                _watches.Add(watch);
            }
        }

        context.Response.ContentType = "application/json";
        await context.Response.StartAsync();
        if (expired is not null)
        {
            Interlocked.Increment(ref _expired);
            var error = new JsonObject { ["type"] = "ERROR", ["object"] = Status(410, "Expired", expired) }.ToJsonString();
            await context.Response.WriteAsync(error + "\n");
            return;
        }

        var timeout = int.TryParse(query["timeoutSeconds"], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromMinutes(30);
        using var ends = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        ends.CancelAfter(timeout);
        try
        {
            await foreach (var line in watch.Lines.Reader.ReadAllAsync(ends.Token))
            {
                await context.Response.WriteAsync(line + "\n", ends.Token);
                await context.Response.Body.FlushAsync(ends.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // Timed out (a normal end) or cut.
        }
        finally
        {
            lock (_lock)
            {
                _watches.Remove(watch);
            }
        }
    }

    private sealed class OpenWatch(HttpContext context, Func<FakePod, bool> matches, bool bookmarks)
    {
        public HttpContext Context => context;

        public bool Bookmarks => bookmarks;

        public Channel<string> Lines { get; } = Channel.CreateUnbounded<string>();

        public bool Matches(FakePod pod) => matches(pod);
    }
}

/// <summary>A pod as the fake API server stores it.</summary>
internal sealed record FakePod(
    string Namespace,
    string Name,
    string? Ip,
    IReadOnlyDictionary<string, string> Annotations,
    IReadOnlyDictionary<string, string>? Labels = null,
    string Phase = "Running",
    string Node = "node-a")
{
    public string Uid { get; init; } = Guid.NewGuid().ToString();

    public long ResourceVersion { get; init; }

    public string Key => $"{Namespace}/{Name}";

    /// <summary>The pod in the API's JSON (trimmed to what a pod of one container has).</summary>
    public JsonObject ToJson(bool withKind)
    {
        var pod = new JsonObject();
        if (withKind)
        {
            pod["kind"] = "Pod";
            pod["apiVersion"] = "v1";
        }

        pod["metadata"] = new JsonObject
        {
            ["name"] = Name,
            ["namespace"] = Namespace,
            ["uid"] = Uid,
            ["resourceVersion"] = ResourceVersion.ToString(CultureInfo.InvariantCulture),
            ["creationTimestamp"] = "2026-12-07T00:00:00Z",
            ["labels"] = ToJson(Labels),
            ["annotations"] = ToJson(Annotations),
        };
        pod["spec"] = new JsonObject
        {
            ["containers"] = new JsonArray(new JsonObject
            {
                ["name"] = "app",
                ["image"] = "registry.example/app:1.0",
                ["ports"] = new JsonArray(new JsonObject { ["containerPort"] = 6060, ["protocol"] = "TCP" }),
                ["resources"] = new JsonObject(),
            }),
            ["restartPolicy"] = "Always",
            ["nodeName"] = Node,
        };
        var status = new JsonObject
        {
            ["phase"] = Phase,
            ["hostIP"] = "10.0.0.1",
            ["startTime"] = "2026-12-07T00:00:01Z",
        };
        if (Ip is not null)
        {
            status["podIP"] = Ip;
            status["podIPs"] = new JsonArray(new JsonObject { ["ip"] = Ip });
        }

        pod["status"] = status;
        return pod;
    }

    private static JsonObject? ToJson(IReadOnlyDictionary<string, string>? values)
    {
        if (values is null)
        {
            return null;
        }

        var json = new JsonObject();
        foreach (var (key, value) in values)
        {
            json[key] = value;
        }

        return json;
    }
}
