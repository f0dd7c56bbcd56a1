using System.Globalization;

namespace Profefe.Testing.Servers;

/// <summary>
/// A throwaway S3 server: a single-node Ceph cluster (mon, memstore OSD, radosgw) from the Debian packages,
/// bootstrapped by test/Profefe.Testing/Servers/ceph/ceph-rgw.sh into a temporary directory, on free ports of
/// 127.0.0.1. The objects live in the OSD's memory; everything is stopped and deleted on dispose.
/// </summary>
public sealed class CephRgwServer : ExternalServer
{
    /// <summary>The region to sign with; radosgw accepts any, the SDK needs one.</summary>
    public const string Region = "us-east-1";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);

    private readonly string _directory;
    private int _bucketCounter;

    private CephRgwServer(string directory, int port, string accessKey, string secretKey)
        : base(directory)
    {
        _directory = directory;
        Port = port;
        AccessKey = accessKey;
        SecretKey = secretKey;
    }

    public int Port { get; }

    /// <summary>The S3 endpoint, e.g. http://127.0.0.1:41234 (path-style addressing only).</summary>
    public string ServiceUrl => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public string AccessKey { get; }

    public string SecretKey { get; }

    /// <summary>Where the cluster's config, logs and mon store are (the daemons' logs are in log/).</summary>
    public string StateDirectory => _directory;

    public static string ScriptPath => Path.Combine(TestData.RepoRoot, "test", "Profefe.Testing", "Servers", "ceph", "ceph-rgw.sh");

    /// <summary>Starts a cluster; throws <see cref="InvalidOperationException"/> saying why when it cannot.</summary>
    public static async Task<CephRgwServer> StartAsync()
    {
        foreach (var program in new[] { "ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "monmaptool", "curl" })
        {
            if (ExternalDependency.FindExecutable(program) is null)
            {
                throw new InvalidOperationException($"{program} is not installed (apt-get install ceph-mon ceph-osd radosgw ceph-common curl)");
            }
        }

        var accessKey = "PROFEFE" + RandomToken(13).ToUpperInvariant();
        var secretKey = RandomToken(40);
        // The ports were free a moment ago; another process may take one first, so try a few.
        var failures = new List<string>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var directory = Path.Combine(Path.GetTempPath(), "profefe-ceph-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(directory);
            var s3Port = FreePort.Next();
            var monPort = FreePort.Next();
            var (exit, output) = await RunScriptAsync("start", directory,
                [s3Port.ToString(CultureInfo.InvariantCulture), monPort.ToString(CultureInfo.InvariantCulture), accessKey, secretKey]);
            if (exit == 0)
            {
                return new CephRgwServer(directory, s3Port, accessKey, secretKey);
            }

            failures.Add($"starting Ceph on ports {s3Port}/{monPort} failed ({exit}): {output}");
            await RunScriptAsync("stop", directory, []);
            TryDelete(directory);
        }

        throw new InvalidOperationException(string.Join("; ", failures));
    }

    /// <summary>Creates a bucket with a new unique name (or <paramref name="name"/>) and returns its name.</summary>
    public async Task<string> CreateBucketAsync(string? name = null)
    {
        name ??= $"profefe-{Interlocked.Increment(ref _bucketCounter).ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..8]}";
        await RunCheckedAsync("create-bucket", [name]);
        return name;
    }

    /// <summary>Kills radosgw alone with SIGKILL, as a crash would; the objects stay in the OSD.</summary>
    public Task KillRgwAsync() => RunCheckedAsync("kill-rgw", []);

    /// <summary>Starts radosgw again on the same port after <see cref="KillRgwAsync"/>; returns once it serves S3.</summary>
    public Task RestartRgwAsync() => RunCheckedAsync("start-rgw", []);

    protected override async Task StopAsync() => await RunScriptAsync("stop", _directory, []);

    private static async Task<(int ExitCode, string Output)> RunScriptAsync(string command, string directory, IEnumerable<string> arguments) =>
        await ExternalProcess.RunAsync("bash", [ScriptPath, command, directory, .. arguments], CommandTimeout);

    private async Task RunCheckedAsync(string command, IEnumerable<string> arguments)
    {
        var (exit, output) = await RunScriptAsync(command, _directory, arguments);
        if (exit != 0)
        {
            throw new InvalidOperationException($"ceph-rgw.sh {command} failed ({exit}): {output}");
        }
    }

    private static string RandomToken(int length)
    {
        const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        return string.Create(length, 0, static (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = Alphabet[Random.Shared.Next(Alphabet.Length)];
            }
        });
    }
}
