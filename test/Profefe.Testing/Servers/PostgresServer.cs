using System.Globalization;

namespace Profefe.Testing.Servers;

/// <summary>
/// A throwaway PostgreSQL server from the Debian packages: initdb into a temporary directory, listening on
/// 127.0.0.1 on a free port with trust authentication; stopped and deleted on dispose.
/// </summary>
public sealed class PostgresServer : ExternalServer
{
    private const string OsUser = "postgres";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);

    private readonly string _binDirectory;
    private readonly string _directory;
    private readonly string _serverOptions;

    private PostgresServer(string binDirectory, string directory, int port, string serverOptions)
        : base(directory)
    {
        _serverOptions = serverOptions;
        _binDirectory = binDirectory;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string DataDirectory => Path.Combine(_directory, "data");

    /// <summary>An Npgsql connection string for <paramref name="database"/> as the superuser.</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Database={database};Username=postgres;Pooling=true;Timeout=15;Command Timeout=60";

    /// <summary>The bin directory of the newest installed PostgreSQL, or null.</summary>
    public static string? FindBinDirectory()
    {
        if (!Directory.Exists("/usr/lib/postgresql"))
        {
            return null;
        }

        return Directory.GetDirectories("/usr/lib/postgresql")
            .Select(static dir => (Dir: Path.Combine(dir, "bin"), Version: int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0))
            .Where(static c => File.Exists(Path.Combine(c.Dir, "initdb")) && File.Exists(Path.Combine(c.Dir, "pg_ctl")))
            .OrderByDescending(static c => c.Version)
            .Select(static c => c.Dir)
            .FirstOrDefault();
    }

    /// <summary>Starts a server; throws <see cref="InvalidOperationException"/> saying why when it cannot.</summary>
    public static async Task<PostgresServer> StartAsync()
    {
        var bin = FindBinDirectory() ?? throw new InvalidOperationException("PostgreSQL is not installed (apt-get install postgresql)");
        var directory = Path.Combine(Path.GetTempPath(), "profefe-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        try
        {
            if (ExternalProcess.IsRoot)
            {
                var (chownExit, chownOutput) = await ExternalProcess.RunAsync("chown", [$"{OsUser}:", directory], CommandTimeout);
                if (chownExit != 0)
                {
                    throw new InvalidOperationException($"chown {OsUser} {directory} failed: {chownOutput}");
                }
            }

            var data = Path.Combine(directory, "data");
            var (initExit, initOutput) = await ExternalProcess.RunAsync(Path.Combine(bin, "initdb"),
                ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"], CommandTimeout, OsUser);
            if (initExit != 0)
            {
                throw new InvalidOperationException($"initdb failed ({initExit}): {initOutput}");
            }

            // The port was free a moment ago; another process may take it first, so try a few.
            var failures = new List<string>();
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var port = FreePort.Next();
                var options = string.Join(' ',
                    "-c listen_addresses=127.0.0.1",
                    $"-c port={port}",
                    $"-c unix_socket_directories={directory}",
                    "-c max_connections=200",
                    "-c shared_buffers=32MB");
                var (startExit, startOutput) = await ExternalProcess.RunAsync(Path.Combine(bin, "pg_ctl"),
                    ["-D", data, "-l", Path.Combine(directory, "server.log"), "-o", options, "-w", "-t", "60", "start"], CommandTimeout, OsUser);
                if (startExit == 0)
                {
                    return new PostgresServer(bin, directory, port, options);
                }

                failures.Add($"pg_ctl start on port {port} failed ({startExit}): {startOutput} {ReadLog(directory)}");
                await ExternalProcess.RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "stop"], CommandTimeout, OsUser);
            }

            throw new InvalidOperationException(string.Join("; ", failures));
        }
        catch
        {
            TryDelete(directory);
            throw;
        }
    }

    /// <summary>Stops the server abruptly, as a crash would (the data stays).</summary>
    public async Task KillAsync() =>
        await ExternalProcess.RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "stop"], CommandTimeout, OsUser);

    /// <summary>Starts the server again on the same port and data after <see cref="KillAsync"/>.</summary>
    public async Task RestartAsync()
    {
        var (exit, output) = await ExternalProcess.RunAsync(Path.Combine(_binDirectory, "pg_ctl"),
            ["-D", DataDirectory, "-l", Path.Combine(_directory, "server.log"), "-o", _serverOptions, "-w", "-t", "60", "start"], CommandTimeout, OsUser);
        if (exit != 0)
        {
            throw new InvalidOperationException($"pg_ctl start failed ({exit}): {output} {ReadLog(_directory)}");
        }
    }

    protected override Task StopAsync() => KillAsync();

    private static string ReadLog(string directory)
    {
        try
        {
            var log = Path.Combine(directory, "server.log");
            return File.Exists(log) ? File.ReadAllText(log) : "";
        }
        catch (IOException)
        {
            return "";
        }
    }
}
