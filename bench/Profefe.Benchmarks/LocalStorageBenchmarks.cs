using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Storage.Local;

namespace Profefe.Benchmarks;

/// <summary>
/// Ingest into the embedded store with 8 concurrent writers, with group commit (batches of up to 256 per
/// segment write, sync and index transaction) and without it (all three per profile), syncing the segment on
/// every commit (Full) or leaving it to the OS (Normal). Each operation is one
/// ~10 KB profile, so 1 / Mean is profiles per second. The store grows across iterations, as a collector's does.
/// </summary>
[Config(typeof(LocalStorageBenchmarkConfig))]
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet closes the store in [GlobalCleanup].")]
public class LocalStorageWriteBenchmarks
{
    private const int Writers = 8;
    private const int ProfilesPerWriter = 250;

    private string _directory = "";
    private LocalProfileStorage? _storage;
    private byte[] _data = [];

    [Params(1, 256)]
    public int MaxBatchProfiles { get; set; }

    [Params(LocalStorageSynchronous.Full, LocalStorageSynchronous.Normal)]
    public LocalStorageSynchronous Synchronous { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("profefe-bench-write-").FullName;
        _storage = new LocalProfileStorage(new LocalStorageOptions { DataDirectory = _directory, MaxBatchProfiles = MaxBatchProfiles, Synchronous = Synchronous });
        _data = new byte[9_709];
        new Random(42).NextBytes(_data);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var statistics = _storage!.GetStatisticsAsync(CancellationToken.None).GetAwaiter().GetResult();
        Console.WriteLine($"// local store: {statistics.ProfileCount} profiles of {_data.Length} bytes, {statistics.BytesOnDisk} bytes on disk, {statistics.BytesOnDisk / Math.Max(1, statistics.ProfileCount)} per profile");
        _storage.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = Writers * ProfilesPerWriter)]
    public async Task WriteProfiles()
    {
        var writers = new Task[Writers];
        for (var w = 0; w < Writers; w++)
        {
            var writer = w.ToString(System.Globalization.CultureInfo.InvariantCulture);
            writers[w] = Task.Run(async () =>
            {
                for (var i = 0; i < ProfilesPerWriter; i++)
                {
                    var now = DateTime.UtcNow;
                    var meta = new ProfileMeta(ProfileId.NewId(now), ProfileType.Cpu, "bench", [new Label("instance", writer), new Label("region", "eu")], now);
                    await _storage!.WriteProfileAsync(meta, _data, CancellationToken.None);
                }
            });
        }

        await Task.WhenAll(writers);
    }
}

/// <summary>
/// Finds over 10,000 and 100,000 stored profiles of one service (1 KB each: finds never read the bytes):
/// all of them, a label filter matching 100, two labels matching 25, and the newest 100 (limit).
/// </summary>
[Config(typeof(LocalStorageBenchmarkConfig))]
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet closes the store in [GlobalCleanup].")]
public class LocalStorageFindBenchmarks
{
    private static readonly DateTime Start = new(2026, 3, 1, 0, 0, 0, DateTimeKind.Utc);

    private string _directory = "";
    private LocalProfileStorage? _storage;

    [Params(10_000, 100_000)]
    public int Profiles { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("profefe-bench-find-").FullName;
        _storage = new LocalProfileStorage(new LocalStorageOptions { DataDirectory = _directory });
        var data = new byte[1_000];
        var instances = Profiles / 100;
        Parallel.For(0, 8, writer =>
        {
            for (var i = writer; i < Profiles; i += 8)
            {
                var createdAt = Start.AddSeconds(i);
                var labels = new Label[]
                {
                    new("instance", "i-" + (i % instances).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    new("region", (i % 4).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    new("version", "1.0"),
                };
                var type = i % 10 == 9 ? ProfileType.Heap : ProfileType.Cpu;
                _storage.WriteProfileAsync(new ProfileMeta(ProfileId.NewId(createdAt), type, "bench", labels, createdAt), data, CancellationToken.None)
                    .GetAwaiter().GetResult();
            }
        });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _storage!.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public Task<IReadOnlyList<ProfileMeta>> FindAll() =>
        Find(new ProfileQuery("bench", null, [], DateTime.MinValue, DateTime.MaxValue));

    [Benchmark]
    public Task<IReadOnlyList<ProfileMeta>> FindCpuByLabel() =>
        Find(new ProfileQuery("bench", ProfileType.Cpu, [new Label("instance", "i-7")], DateTime.MinValue, DateTime.MaxValue));

    [Benchmark]
    public Task<IReadOnlyList<ProfileMeta>> FindByLabel() =>
        Find(new ProfileQuery("bench", null, [new Label("instance", "i-7")], DateTime.MinValue, DateTime.MaxValue));

    [Benchmark]
    public Task<IReadOnlyList<ProfileMeta>> FindByTwoLabels() =>
        Find(new ProfileQuery("bench", null, [new Label("version", "1.0"), new Label("instance", "i-7"), new Label("region", "3")], DateTime.MinValue, DateTime.MaxValue));

    [Benchmark]
    public Task<IReadOnlyList<ProfileMeta>> FindNewest100() =>
        Find(new ProfileQuery("bench", ProfileType.Cpu, [], DateTime.MinValue, DateTime.MaxValue, Limit: 100));

    private Task<IReadOnlyList<ProfileMeta>> Find(ProfileQuery query) => _storage!.FindProfilesAsync(TenantId.Default, query, CancellationToken.None);
}

/// <summary>
/// In-process and few iterations: the stores take seconds to fill, and the machine is shared, so a short,
/// monitored run is what can be afforded; the spread is reported beside the mean.
/// </summary>
public sealed class LocalStorageBenchmarkConfig : ManualConfig
{
    public LocalStorageBenchmarkConfig()
    {
        AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithStrategy(RunStrategy.Monitoring)
            .WithLaunchCount(1)
            .WithWarmupCount(2)
            .WithIterationCount(10));
    }
}
