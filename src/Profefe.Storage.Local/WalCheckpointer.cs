using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Profefe.Storage.Local;

/// <summary>
/// Copies the write-ahead log into the database on its own thread and connection. SQLite would otherwise
/// checkpoint inside a commit every ~4 MB, making that commit (and every write waiting on it) pay for
/// writing and syncing megabytes of database pages.
/// A passive checkpoint runs beside the writer. It cannot shrink a log that the writer keeps appending to,
/// so the writer itself restarts the log when it passes <see cref="MaxWalBytes"/> (see LocalProfileWriter).
/// </summary>
internal sealed class WalCheckpointer : IDisposable
{
    // Counted in profile bytes, which now live in segments: the log holds only their index pages. A checkpoint's
    // own fsync delays the writer's segment sync, so fewer, larger checkpoints keep ingest latency low.
    public const long SignalEveryBytes = 32L * 1024 * 1024;
    public const long MaxWalBytes = 64L * 1024 * 1024;

    private readonly SqliteConnection _connection;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly Thread _thread;
    private volatile bool _stopping;

    public WalCheckpointer(string connectionString, ILogger logger)
    {
        _logger = logger;
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        _thread = new Thread(Run) { IsBackground = true, Name = "profefe-local-checkpoint" };
        _thread.Start();
    }

    /// <summary>Asks for a checkpoint; cheap and non-blocking, several requests collapse into one.</summary>
    public void Request()
    {
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another request got there first: one checkpoint serves both.
            }
        }
    }

    public void Dispose()
    {
        _stopping = true;
        Request();
        _thread.Join();
        _connection.Dispose();
        _signal.Dispose();
    }

    private void Run()
    {
        while (true)
        {
            _signal.Wait();
            if (_stopping)
            {
                return;
            }

            try
            {
                Checkpoint("PASSIVE");
            }
            catch (SqliteException exception)
            {
                // The next request retries; meanwhile the log only grows, nothing is lost.
                Log.CheckpointFailed(_logger, exception);
            }
        }
    }

    private void Checkpoint(string mode)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"PRAGMA wal_checkpoint({mode})";
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Checkpoints everything so that the next commit starts the log from its beginning. Called by the writer
    /// between transactions: as the only writer it cannot be starved by itself, which a checkpoint from another
    /// connection would be under load. The file keeps its size (journal_size_limit caps it): overwriting its
    /// cached, allocated pages costs less than growing a truncated file again block by block.
    /// </summary>
    public static void Restart(SqliteConnection writer)
    {
        using var command = writer.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(RESTART)";
        command.ExecuteNonQuery();
    }
}
