using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Profefe.LoadDriver;

/// <summary>The whole measurement: fill the store in two steps, find after each, merge, and weigh the store.</summary>
internal static class LoadRun
{
    private const int Merge100First = 100;
    private const int Merge1000First = 1_000;
    private const int MergeWarmupFirst = 3_000;
    private const int MergeWarmups = 5;

    public static async Task<string> ExecuteAsync(LoadOptions options)
    {
        var profilePath = options.ProfilePath ?? Path.Combine(AppContext.BaseDirectory, "testdata", "cpu_hash_02.pb.gz");
        var profile = BenchProfile.Load(profilePath);
        var loadBefore = LoadAverage();
        var notes = new List<string>
        {
            $"pushed profile: {Path.GetFileName(profilePath)} ({profile.Original.Length:N0} bytes; sent as {profile.Body.Length:N0} bytes without time_nanos so that created_at decides)",
            $"load average before: {loadBefore}",
        };

        var scratch = Directory.CreateTempSubdirectory("profefe-load-");
        var dataDirectory = options.Url is null ? Path.Combine(scratch.FullName, "data") : options.DataDirectory;
        var logPath = Path.Combine(scratch.FullName, "collector.log");
        var collectorDll = options.Url is null ? CollectorLocator.Find(options.CollectorDll) : null;
        CollectorProcess? collector = null;
        try
        {
            if (collectorDll is not null)
            {
                Step($"starting {collectorDll} on a fresh store in {dataDirectory}");
                collector = await CollectorProcess.StartAsync(collectorDll, dataDirectory!, logPath, CancellationToken.None).ConfigureAwait(false);
                notes.Add($"collector: {collectorDll} (pid {collector.Id}), log {logPath}");
            }

            var url = options.Url ?? collector!.Url;
            var service = "load-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
            using var workload = new CollectorWorkload(url, service, profile.Body, options.Clients);

            Step($"warm-up: {options.WarmupRequests} pushes to {service}-warmup{(options.IngestOnly ? "" : ", a find and a merge")}");
            var warmup = await workload.IngestAsync(service + "-warmup", 0, options.WarmupRequests, options.Clients, CpuProbes.None).ConfigureAwait(false);
            Step("warm-up " + Describe(warmup));
            notes.Add("warm-up (fresh collector, JIT still compiling): " + Describe(warmup));
            using var external = collector is null && options.ServerPid is { } pid ? Process.GetProcessById(pid) : null;
            var cpu = Probes(options, collector, external);
            if (options.IngestOnly)
            {
                return await IngestOnlyAsync(options, workload, cpu, notes).ConfigureAwait(false);
            }

            using (var warm = new CollectorWorkload(url, service + "-warmup", profile.Body, options.Clients))
            {
                await warm.FindAsync(0, options.WarmupRequests - 1, CollectorWorkload.VersionOf(0), 2).ConfigureAwait(false);
                await warm.MergeAsync(0, 9, 1).ConfigureAwait(false);
            }

            Step($"ingest: {options.SmallStore:N0} pushes, {options.Clients} clients");
            var ingestSmall = await workload.IngestAsync(service, 0, options.SmallStore, options.Clients, cpu).ConfigureAwait(false);
            Step(Describe(ingestSmall));

            var version = CollectorWorkload.VersionOf(options.SmallStore / 2);
            Step($"find over {options.SmallStore:N0}");
            var findSmallAll = await workload.FindAsync(0, options.SmallStore - 1, null, options.FindRuns).ConfigureAwait(false);
            var findSmallLabel = await workload.FindAsync(0, options.SmallStore - 1, version, options.FindRuns).ConfigureAwait(false);

            Step($"ingest: {options.LargeStore - options.SmallStore:N0} more pushes, {options.Clients} clients, at most {options.LargeIngestBudget.TotalSeconds:0} s");
            var ingestLarge = await workload.IngestAsync(
                service, options.SmallStore, options.LargeStore - options.SmallStore, options.Clients, cpu, options.LargeIngestBudget).ConfigureAwait(false);
            Step(Describe(ingestLarge));
            var largeStore = options.SmallStore + ingestLarge.Requests;
            if (largeStore < options.LargeStore)
            {
                notes.Add($"the second ingest ran out of its {options.LargeIngestBudget.TotalSeconds:0} s budget: {largeStore:N0} stored instead of {options.LargeStore:N0}");
            }

            Step($"find over {largeStore:N0}");
            var findLargeAll = await workload.FindAsync(0, largeStore - 1, null, options.FindRuns).ConfigureAwait(false);
            var findLargeLabel = await workload.FindAsync(0, largeStore - 1, version, options.FindRuns).ConfigureAwait(false);

            var stored = options.WarmupRequests + largeStore;
            long? bytesWhileRunning = dataDirectory is null ? null : DirectorySize(dataDirectory);

            Step("merge of 100");
            var (merge100, merge100Peak, idle100) = await MergeAsync(workload, collector, Merge100First, 100, options.MergeRuns).ConfigureAwait(false);
            Step("merge of 1,000");
            var (merge1000, merge1000Peak, idle1000) = await MergeAsync(workload, collector, Merge1000First, 1_000, options.MergeRuns).ConfigureAwait(false);
            if (collector is not null)
            {
                notes.Add($"merge: the collector is restarted before each size (idle RSS then {Mib(idle100)} / {Mib(idle1000)}), warmed up with "
                    + $"{MergeWarmups} merges of a tenth of that size (other profiles), then merges {options.MergeRuns + 1} times; peak RSS = VmHWM after that; "
                    + $"wall time = median of the merges after the first (first: {merge100.First.MedianMs / 1000:0.000} s / {merge1000.First.MedianMs / 1000:0.000} s)");
            }

            long? bytesAfterStop = null;
            if (collector is not null)
            {
                await collector.StopAsync().ConfigureAwait(false);
                bytesAfterStop = DirectorySize(dataDirectory!);
            }

            notes.Add($"load average after: {LoadAverage()}");
            return Report(options, largeStore, stored, ingestSmall, ingestLarge, findSmallAll, findSmallLabel, findLargeAll, findLargeLabel,
                merge100.Warm, merge100Peak, merge1000.Warm, merge1000Peak, bytesWhileRunning, bytesAfterStop, profile, notes);
        }
        finally
        {
            if (collector is not null)
            {
                await collector.DisposeAsync().ConfigureAwait(false);
            }

            scratch.Delete(recursive: true);
        }

        async Task<((QueryResult First, QueryResult Warm) Merge, long? Peak, long? Idle)> MergeAsync(
            CollectorWorkload workload, CollectorProcess? running, int first, int count, int runs)
        {
            if (running is not null)
            {
                // A fresh process gives each merge size its own peak; the store is already on disk.
                await running.StopAsync().ConfigureAwait(false);
                await running.DisposeAsync().ConfigureAwait(false);
                running = await CollectorProcess.StartAsync(collectorDll!, dataDirectory!, logPath, CancellationToken.None).ConfigureAwait(false);
                collector = running;
            }

            using var target = running is null ? null : new CollectorWorkload(running.Url, workload.Service, profile.Body, options.Clients);
            var idle = running?.ResidentBytes();
            if (running is not null)
            {
                // A long-running collector has its merge path jitted and tiered up; a tenth-size merge of other
                // profiles gets the fresh one there without raising the peak beyond the measured merge's own.
                for (var warmup = 0; warmup < MergeWarmups; warmup++)
                {
                    await target!.MergeAsync(MergeWarmupFirst, MergeWarmupFirst + (count / 10) - 1, 0).ConfigureAwait(false);
                }

                await Task.Delay(500).ConfigureAwait(false);
            }

            var merge = await (target ?? workload).MergeAsync(first, first + count - 1, runs).ConfigureAwait(false);
            Step($"  {merge.Warm.Profiles} profiles: first {merge.First.MedianMs:0} ms, then median {merge.Warm.MedianMs:0} ms");
            return (merge, running?.PeakResidentBytes(), idle);
        }
    }

    private static string Report(
        LoadOptions options,
        int largeStore,
        int stored,
        IngestResult ingestSmall,
        IngestResult ingestLarge,
        QueryResult findSmallAll,
        QueryResult findSmallLabel,
        QueryResult findLargeAll,
        QueryResult findLargeLabel,
        QueryResult merge100,
        long? merge100Peak,
        QueryResult merge1000,
        long? merge1000Peak,
        long? bytesWhileRunning,
        long? bytesAfterStop,
        BenchProfile profile,
        List<string> notes)
    {
        const double ProfefeIngest = 2_488, ProfefeP99 = 7.3, ProfefeMerge1000 = 1.29, ProfefeMerge1000Mib = 444;
        var table = new StringBuilder()
            .AppendLine(options.Quick ? "QUICK SMOKE RUN (small store): not comparable to the reference figures" : "")
            .AppendLine("| measurement | this collector | profefe (Go, Badger) | target | |")
            .AppendLine("|---|---|---|---|---|");
        void Row(string what, string ours, string theirs, string target, string verdict) =>
            table.Append("| ").Append(what).Append(" | ").Append(ours).Append(" | ").Append(theirs).Append(" | ")
                .Append(target).Append(" | ").Append(verdict).AppendLine(" |");

        foreach (var (name, ingest) in new[] { ($"0 → {options.SmallStore:N0} stored", ingestSmall), ($"{options.SmallStore:N0} → {largeStore:N0} stored", ingestLarge) })
        {
            Row($"ingest, {options.Clients} clients, {name}: profiles/s", $"{ingest.PerSecond:N0}", "2,488", "≥ 7,464 (3×)",
                Verdict(ingest.PerSecond >= 3 * ProfefeIngest, $"{ingest.PerSecond / ProfefeIngest:0.00}× profefe"));
            Row("  latency p50", Ms(ingest.P50Ms), "3.1 ms", "", "");
            Row("  latency p99", Ms(ingest.P99Ms), "7.3 ms", "< 7.3 ms", Verdict(ingest.P99Ms < ProfefeP99, $"{ingest.P99Ms / ProfefeP99:0.00}× profefe"));
            if (ingest.ServerCpu > TimeSpan.Zero)
            {
                // CPU per push moves far less than the rate with what else runs on the machine, so it is what tells
                // two builds apart on a shared machine (bench/before-after.sh).
                Row("  collector CPU per profile", Ms(ingest.ServerCpu.TotalMilliseconds / ingest.Requests), "not reported", "", "");
            }

            foreach (var (server, used) in ingest.BackendCpu)
            {
                Row($"  {server} CPU per profile", Ms(used.TotalMilliseconds / ingest.Requests), "not reported", "", "");
            }
        }

        Row($"find all of {options.SmallStore:N0} (returned)", $"{Ms(findSmallAll.MedianMs)} ({findSmallAll.Profiles:N0})", "526 ms (10,000)", "", "");
        Row($"find label filter over {options.SmallStore:N0} (returned)", $"{Ms(findSmallLabel.MedianMs)} ({findSmallLabel.Profiles:N0})", "12 ms (100)", "< 5 ms",
            Verdict(findSmallLabel.MedianMs < 5, ""));
        Row($"find all of {largeStore:N0} (returned)", $"{Ms(findLargeAll.MedianMs)} ({findLargeAll.Profiles:N0})", "not reported", "", "");
        Row($"find label filter over {largeStore:N0} (returned)", $"{Ms(findLargeLabel.MedianMs)} ({findLargeLabel.Profiles:N0})", "not reported", "< 5 ms",
            Verdict(findLargeLabel.MedianMs < 5, ""));
        Row($"merge of {merge100.Profiles:N0}: wall", $"{merge100.MedianMs / 1000:0.000} s", "0.15 s", "", "");
        Row("  peak RSS", Mib(merge100Peak), "95 MB", "", "");
        Row($"merge of {merge1000.Profiles:N0}: wall", $"{merge1000.MedianMs / 1000:0.000} s", "1.29 s", "≤ 0.258 s (5×)",
            Verdict(merge1000.MedianMs / 1000 <= ProfefeMerge1000 / 5, $"{ProfefeMerge1000 * 1000 / merge1000.MedianMs:0.0}× faster"));
        Row("  peak RSS", Mib(merge1000Peak), "444 MB", "≤ 111 MB (¼)",
            merge1000Peak is { } peak ? Verdict(peak / 1048576.0 <= ProfefeMerge1000Mib / 4, $"{peak / 1048576.0 / ProfefeMerge1000Mib:0.00}× profefe") : "");
        Row($"bytes on disk per stored profile ({stored:N0} stored)",
            bytesAfterStop is { } after ? $"{after / stored:N0} after stop ({(bytesWhileRunning ?? 0) / stored:N0} while running)" : bytesWhileRunning is { } running ? $"{running / stored:N0}"
                : options.Url is not null && options.DataDirectory is null ? "n/a (no --data-dir)" : "n/a (no local data directory)",
            "10,486 per 9,709-byte profile", "", $"pushed {profile.Body.Length:N0} bytes");

        table.AppendLine();
        foreach (var ingest in new[] { ingestSmall, ingestLarge })
        {
            notes.Add($"ingest of {ingest.Requests:N0}: {Describe(ingest)}");
        }

        notes.Add($"find: median of {findSmallAll.Runs} runs, timed to the last byte of the reply; e.g. GET /{findSmallLabel.Path}");
        foreach (var note in notes)
        {
            table.Append("- ").AppendLine(note);
        }

        return table.ToString();
    }

    /// <summary>The collector's CPU when it was started here or given by --server-pid; the storage servers' with --backend.</summary>
    private static CpuProbes Probes(LoadOptions options, CollectorProcess? collector, Process? external)
    {
        Func<TimeSpan>? collectorCpu = collector is not null ? collector.CpuTime : external is null ? null : () =>
        {
            external.Refresh();
            return external.TotalProcessorTime;
        };
        var backends = new List<(string, Func<TimeSpan>)>();
        foreach (var (name, pids) in options.Backends)
        {
            backends.Add((name, new ProcessTreeCpu(pids).Read));
        }

        return new CpuProbes(collectorCpu, backends);
    }

    /// <summary>The two ingest steps (for a target that may keep nothing), with the CPU per profile of what was measured.</summary>
    private static async Task<string> IngestOnlyAsync(LoadOptions options, CollectorWorkload workload, CpuProbes cpu, List<string> notes)
    {
        var report = new StringBuilder();
        report.AppendLine("ingest only (no finds or merges):");
        var pushed = 0;
        var ingestCpu = TimeSpan.Zero;
        foreach (var (first, count) in new[] { (0, options.SmallStore), (options.SmallStore, options.LargeStore - options.SmallStore) })
        {
            Step($"ingest: {count:N0} pushes, {options.Clients} clients");
            var result = await workload.IngestAsync(workload.Service, first, count, options.Clients, cpu, options.LargeIngestBudget).ConfigureAwait(false);
            Step(Describe(result));
            report.Append("- ingest of ").Append(count.ToString("N0", CultureInfo.InvariantCulture)).Append(": ").AppendLine(Describe(result));
            if (result.ServerCpu > TimeSpan.Zero)
            {
                // One line per step that scripts compare across stores (bench/scaleout-load.sh CEILING=1).
                report.Append("- CPU per profile pushing ").Append(count.ToString("N0", CultureInfo.InvariantCulture)).Append(": ").AppendLine(PerProfile(result));
            }
            pushed += result.Requests;
            ingestCpu += result.ServerCpu;
        }

        if (cpu.Collector is { } serverCpu)
        {
            // Work a collector leaves for later (this one's engine cutting a burst, Badger compacting) is part of
            // what a push costs: follow the collector until it idles and count its CPU.
            Step("following the collector until it idles");
            var (busy, later) = await SettleAsync(serverCpu).ConfigureAwait(false);
            var line = $"after the last push: busy {busy.TotalSeconds:0.0} s more using {later.TotalSeconds:0.00} CPU s; "
                + $"CPU per profile: {ingestCpu.TotalMilliseconds / pushed:0.000} ms while pushing, {(ingestCpu + later).TotalMilliseconds / pushed:0.000} ms with that";
            Step(line);
            report.Append("- ").AppendLine(line);
        }

        notes.Add($"load average after: {LoadAverage()}");
        foreach (var note in notes)
        {
            report.Append("- ").AppendLine(note);
        }

        return report.ToString();
    }

    /// <summary>
    /// Waits until the collector has used under 5% of a core for three seconds in a row (at most two minutes);
    /// returns how long it was busy before that and the CPU it used then.
    /// </summary>
    private static async Task<(TimeSpan Busy, TimeSpan Cpu)> SettleAsync(Func<TimeSpan> serverCpu)
    {
        var window = TimeSpan.FromSeconds(1);
        var started = Stopwatch.StartNew();
        var startCpu = serverCpu();
        var busyUntil = TimeSpan.Zero;
        var cpuUntil = TimeSpan.Zero;
        var quiet = 0;
        var last = startCpu;
        while (quiet < 3 && started.Elapsed < TimeSpan.FromMinutes(2))
        {
            await Task.Delay(window).ConfigureAwait(false);
            var now = serverCpu();
            if ((now - last).TotalSeconds < 0.05 * window.TotalSeconds)
            {
                quiet++;
            }
            else
            {
                quiet = 0;
                busyUntil = started.Elapsed;
                cpuUntil = now - startCpu;
            }

            last = now;
        }

        return (busyUntil, cpuUntil);
    }

    private static string PerProfile(IngestResult ingest)
    {
        var together = ingest.ServerCpu;
        var line = new StringBuilder($"collector {ingest.ServerCpu.TotalMilliseconds / ingest.Requests:0.000} ms");
        foreach (var (name, used) in ingest.BackendCpu)
        {
            line.Append(CultureInfo.InvariantCulture, $", {name} {used.TotalMilliseconds / ingest.Requests:0.000} ms");
            together += used;
        }

        return ingest.BackendCpu.Count == 0 ? line.ToString() : line.Append(CultureInfo.InvariantCulture, $", together {together.TotalMilliseconds / ingest.Requests:0.000} ms").ToString();
    }

    private static string Describe(IngestResult ingest)
    {
        var backends = new StringBuilder();
        foreach (var (name, used) in ingest.BackendCpu)
        {
            backends.Append(CultureInfo.InvariantCulture, $", {name} {used.TotalSeconds / ingest.Wall.TotalSeconds * 100:0}%");
        }

        var cpu = ingest.ServerCpu > TimeSpan.Zero
            ? $", CPU: collector {ingest.ServerCpu.TotalSeconds / ingest.Wall.TotalSeconds * 100:0}% of a core{backends}, driver {ingest.DriverCpu.TotalSeconds / ingest.Wall.TotalSeconds * 100:0}%"
            : $", CPU: driver {ingest.DriverCpu.TotalSeconds / ingest.Wall.TotalSeconds * 100:0}% of a core";
        return $"{ingest.Requests:N0} in {ingest.Wall.TotalSeconds:0.00} s = {ingest.PerSecond:N0}/s, p50 {Ms(ingest.P50Ms)}, p99 {Ms(ingest.P99Ms)}, max {Ms(ingest.MaxMs)}{cpu}";
    }

    private static string Verdict(bool met, string detail) => (met ? "met" : "MISSED") + (detail.Length > 0 ? $" ({detail})" : "");

    private static string Ms(double milliseconds) => milliseconds < 10 ? $"{milliseconds:0.00} ms" : $"{milliseconds:N0} ms";

    private static string Mib(long? bytes) => bytes is { } b ? $"{b / 1048576.0:0} MiB" : "n/a";

    /// <summary>Null when the collector has no data directory there (a storage without local files, e.g. s3+postgres).</summary>
    private static long? DirectorySize(string path)
    {
        if (!Directory.Exists(path))
        {
            return null;
        }

        long total = 0;
        foreach (var file in new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            total += file.Length;
        }

        return total;
    }

    private static string LoadAverage() => File.ReadAllText("/proc/loadavg").Trim();

    private static void Step(string message) =>
        Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {message}");
}
