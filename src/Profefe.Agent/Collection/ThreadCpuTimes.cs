using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Profefe.Agent.Collection;

/// <summary>One reading of every thread's time on a CPU: when it was taken and nanoseconds per OS thread id.</summary>
internal sealed record ThreadCpuReading(DateTime Utc, Dictionary<int, long> CpuNanos);

/// <summary>
/// Reads how long each thread of a process has run on a CPU, every <see cref="Interval"/> while a round runs, from
/// Linux's <c>/proc/PID/task/TID/schedstat</c> (its first field: nanoseconds on a CPU, user and kernel).
/// </summary>
/// <remarks>
/// The runtime's sampler cannot tell a thread computing in native code from one blocked in the kernel: both are
/// "external" (preemptive mode) when it stops them. The measured CPU time of each thread between two readings
/// tells how much of that stretch it was running, so <see cref="CpuAttribution"/> can give native frames their
/// share without counting waiting as CPU. Reading is a file per thread, five times a second, on a thread of its
/// own: a timer would wake a thread-pool worker each time, which then spins looking for more work.
/// </remarks>
internal sealed class ThreadCpuTimes : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    private readonly string _taskDirectory;
    private readonly List<ThreadCpuReading> _readings = [];
    private readonly Lock _gate = new();
    private readonly ManualResetEventSlim _stopping = new();
    private readonly Thread _reader;
    private bool _stopped;

    private ThreadCpuTimes(string taskDirectory)
    {
        _taskDirectory = taskDirectory;
        Read();
        _reader = new Thread(ReadUntilStopped) { IsBackground = true, Name = "Profefe thread CPU times" };
        _reader.Start();
    }

    /// <summary>Starts reading; null where the times cannot be read (not Linux, process gone, no permission).</summary>
    public static ThreadCpuTimes? TryStart(int processId)
    {
        var directory = $"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/task";
        if (!Directory.Exists(directory))
        {
            return null;
        }

        var times = new ThreadCpuTimes(directory);
        return times._readings.Count > 0 ? times : Discard(times);
    }

    /// <summary>Takes a last reading and stops; returns the readings, oldest first.</summary>
    public IReadOnlyList<ThreadCpuReading> Stop()
    {
        _stopping.Set();
        _reader.Join();
        Read();
        lock (_gate)
        {
            _stopped = true;
            return [.. _readings];
        }
    }

    public void Dispose()
    {
        _stopping.Set();
        _reader.Join();
        _stopping.Dispose();
    }

    private void ReadUntilStopped()
    {
        while (!_stopping.Wait(Interval))
        {
            Read();
        }
    }

    private static ThreadCpuTimes? Discard(ThreadCpuTimes times)
    {
        times.Dispose();
        return null;
    }

    private void Read()
    {
        var cpu = new Dictionary<int, long>();
        Span<byte> buffer = stackalloc byte[64];
        var started = DateTime.UtcNow;
        try
        {
            foreach (var thread in Directory.EnumerateDirectories(_taskDirectory))
            {
                if (int.TryParse(Path.GetFileName(thread.AsSpan()), NumberStyles.None, CultureInfo.InvariantCulture, out var tid)
                    && TryReadCpuNanos(Path.Join(thread, "schedstat"), buffer, out var nanos))
                {
                    cpu[tid] = nanos;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process exited: the readings taken so far still cover the round up to then.
            return;
        }

        if (cpu.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            if (!_stopped)
            {
                // The threads were read one after the other: the middle of the reading stands for all of them.
                _readings.Add(new ThreadCpuReading(started + ((DateTime.UtcNow - started) / 2), cpu));
            }
        }
    }

    private static bool TryReadCpuNanos(string path, Span<byte> buffer, out long nanos)
    {
        nanos = 0;
        try
        {
            using SafeFileHandle handle = File.OpenHandle(path);
            var length = RandomAccess.Read(handle, buffer, 0);
            var text = buffer[..length];
            var end = text.IndexOf((byte)' ');
            return end > 0 && long.TryParse(text[..end], NumberStyles.None, CultureInfo.InvariantCulture, out nanos);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The thread ended between listing and reading.
            return false;
        }
    }
}
