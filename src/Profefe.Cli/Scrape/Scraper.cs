using Microsoft.Extensions.Logging;
using Profefe.Cli.Arguments;
using Profefe.Cli.Scrape.Kubernetes;

namespace Profefe.Cli.Scrape;

/// <summary>
/// Runs a loop per target and profile kind for the static targets, those in target files and the discovered
/// pods, starting and stopping loops as the files and the pods change.
/// </summary>
internal sealed class Scraper(ScrapeConfig config, ScrapeSettings settings, ScrapeStats stats, ILogger logger, PodWatcher? pods = null)
{
    private readonly Dictionary<string, RunningTarget> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FileState> _files = new(StringComparer.Ordinal);

    /// <summary>Takes every profile of every target once, all at once; true when every one arrived.</summary>
    public async Task<bool> RunOnceAsync(CancellationToken cancellationToken)
    {
        RefreshTargetFiles();
        if (pods is not null)
        {
            await pods.ListAsync(cancellationToken).ConfigureAwait(false);
        }

        var targets = CurrentTargets();
        Log.ScrapeStarting(logger, targets.Count, settings.Collector.Collector);
        var rounds = new List<Task<bool>>();
        foreach (var target in targets)
        {
            foreach (var schedule in target.Profiles)
            {
                var taker = new ProfileTaker(target, schedule, settings, stats, logger);
                // The collector may be restarting: give a push a minute of retries even with --once.
                rounds.Add(Task.Run(() => taker.TakeAndPushAsync(TimeSpan.FromMinutes(1), cancellationToken), cancellationToken));
            }
        }

        var results = await Task.WhenAll(rounds).ConfigureAwait(false);
        return Array.TrueForAll(results, ok => ok) && !_files.Values.Any(f => f.Failed);
    }

    /// <summary>Scrapes until cancelled.</summary>
    public async Task RunAsync(TimeSpan countersEvery, CancellationToken cancellationToken)
    {
        using var stopDiscovery = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var podsChanged = pods?.Changed;
        var discovery = pods?.RunAsync(stopDiscovery.Token) ?? Task.CompletedTask;
        RefreshTargetFiles();
        Reconcile(cancellationToken);
        Log.ScrapeStarting(logger, _running.Count, settings.Collector.Collector);
        var lastCounters = settings.Time.GetTimestamp();
        Task? refresh = null;
        try
        {
            while (true)
            {
                // Files are polled; pods are pushed by the watch, so a deleted pod stops at once, not at the next poll.
                refresh ??= Task.Delay(config.TargetFilesRefresh, settings.Time, cancellationToken);
                await (podsChanged is null ? refresh : Task.WhenAny(refresh, podsChanged)).ConfigureAwait(false);
                var changed = false;
                if (refresh.IsCompleted)
                {
                    await refresh.ConfigureAwait(false);
                    refresh = null;
                    changed = RefreshTargetFiles();
                }

                if (podsChanged is { IsCompleted: true })
                {
                    // The next signal is taken before the targets are read, so a change in between is not lost.
                    podsChanged = pods!.Changed;
                    changed = true;
                }

                if (changed)
                {
                    Reconcile(cancellationToken);
                }

                if (settings.Time.GetElapsedTime(lastCounters) >= countersEvery)
                {
                    LogCounters();
                    lastCounters = settings.Time.GetTimestamp();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        finally
        {
            await stopDiscovery.CancelAsync().ConfigureAwait(false);
            await discovery.ConfigureAwait(false);
            foreach (var running in _running.Values)
            {
                await running.Cancellation.CancelAsync().ConfigureAwait(false);
            }

            await Task.WhenAll(_running.Values.SelectMany(r => r.Loops)).ConfigureAwait(false);
            foreach (var running in _running.Values)
            {
                running.Cancellation.Dispose();
            }

            _running.Clear();
        }
    }

    public void LogCounters()
    {
        foreach (var line in stats.Summary())
        {
            Log.Counters(logger, line);
        }
    }

    /// <summary>The static targets, those of every target file and the discovered pods, without duplicates.</summary>
    public IReadOnlyList<ScrapeTarget> CurrentTargets()
    {
        var targets = new List<ScrapeTarget>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var target in config.Targets.Concat(_files.Values.SelectMany(f => f.Targets)).Concat(pods?.Targets ?? []))
        {
            if (keys.Add(target.Key))
            {
                targets.Add(target);
            }
        }

        return targets;
    }

    /// <summary>Re-reads the target files that changed since the last look; true when any did.</summary>
    private bool RefreshTargetFiles()
    {
        var changed = false;
        foreach (var path in config.TargetFiles)
        {
            // Kubernetes updates mounted ConfigMaps by swapping a symlink, which file watchers often miss: poll instead.
            var info = new FileInfo(path);
            var stamp = info.Exists ? (info.LastWriteTimeUtc.Ticks, info.Length) : (0L, -1L);
            if (_files.TryGetValue(path, out var state) && state.Stamp == stamp)
            {
                continue;
            }

            try
            {
                var targets = info.Exists ? ScrapeConfigLoader.LoadTargetFile(path, config.Defaults) : throw new ScrapeConfigException($"{path}: the file does not exist");
                _files[path] = new FileState(stamp, targets, Failed: false);
                Log.TargetFileRead(logger, path, targets.Count);
            }
            catch (ScrapeConfigException e)
            {
                // A half-written or broken file must not stop the targets it listed before.
                _files[path] = new FileState(stamp, state?.Targets ?? [], Failed: true);
                Log.TargetFileFailed(logger, path, e.Message);
            }

            changed = true;
        }

        return changed;
    }

    private void Reconcile(CancellationToken cancellationToken)
    {
        var wanted = CurrentTargets();
        var wantedKeys = new HashSet<string>(wanted.Select(t => t.Key), StringComparer.Ordinal);
        foreach (var (key, running) in _running.ToList())
        {
            if (!wantedKeys.Contains(key))
            {
                running.Cancellation.Cancel();
                _running.Remove(key);
                Log.TargetRemoved(logger, running.Target.BaseUrl, running.Target.Service);
                _ = Task.WhenAll(running.Loops).ContinueWith(_ => running.Cancellation.Dispose(), TaskScheduler.Default);
                if (!wanted.Any(t => t.BaseUrl == running.Target.BaseUrl))
                {
                    // Pods come and go with new addresses: counters of addresses gone would pile up in every summary.
                    stats.Forget(running.Target.BaseUrl);
                }
            }
        }

        foreach (var target in wanted)
        {
            if (_running.ContainsKey(target.Key))
            {
                continue;
            }

            var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var loops = new List<Task>();
            foreach (var schedule in target.Profiles)
            {
                var taker = new ProfileTaker(target, schedule, settings, stats, logger);
                loops.Add(Task.Run(() => taker.RunAsync(cancellation.Token), CancellationToken.None));
            }

            _running[target.Key] = new RunningTarget(target, cancellation, loops);
            if (logger.IsEnabled(LogLevel.Information))
            {
                var profiles = string.Join(", ", target.Profiles.Select(p => $"{p.Endpoint.Name} every {GoDuration.Format(p.Interval)}"));
                Log.TargetAdded(logger, target.BaseUrl, target.Service, profiles);
            }
        }
    }

    private sealed record RunningTarget(ScrapeTarget Target, CancellationTokenSource Cancellation, List<Task> Loops);

    private sealed record FileState((long Ticks, long Length) Stamp, IReadOnlyList<ScrapeTarget> Targets, bool Failed);
}
