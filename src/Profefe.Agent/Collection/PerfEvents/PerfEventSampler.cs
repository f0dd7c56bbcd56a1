using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Profefe.Agent.Collection.PerfEvents;

/// <summary>What a <see cref="PerfEventSampler"/> caught: distinct user-space stacks (instruction addresses, leaf first) and how
/// many samples each got; one sample stands for <see cref="PeriodNanos"/> of CPU time on average.</summary>
internal sealed record PerfCpuStacks(IReadOnlyList<ulong[]> Stacks, IReadOnlyList<long> Counts, long PeriodNanos, long Samples, long Lost, int Threads);

/// <summary>Opens a sampling event on one thread: the fd, or -1 and the errno (a seam for perf_event_open).</summary>
internal delegate int PerfEventOpener(int threadId, out int errno);

/// <summary>
/// Samples a process's threads on their CPU clock with Linux perf events: one event per thread (the process's threads at
/// the start, new ones picked up every <see cref="ThreadScanInterval"/>), each sampling every <see cref="PeriodNanos"/>
/// of that thread's CPU time with its user-space call stack (walked by the kernel along frame pointers, which the JIT
/// keeps), read from the events' ring buffers by one thread of its own.
/// </summary>
/// <remarks>
/// Unlike the runtime's sample profiler this suspends nothing, and a thread that waits takes no samples at all: it
/// gives CPU time by construction. It works on another process too when the kernel lets this one trace it (same user,
/// or CAP_PERFMON / CAP_SYS_PTRACE), and not where perf_event_paranoid is 3 or a seccomp filter refuses the call.
/// A frame of code entered by On-Stack Replacement hands the kernel's walk its tier-0 frame's saved frame pointer, so
/// such a stack shows the method twice and skips its caller; recovering that frame would need the stack's bytes and
/// the JIT's unwind data, which this sampler does not read.
/// </remarks>
internal sealed unsafe class PerfEventSampler : IDisposable
{
    /// <summary>100 samples per second of a thread's CPU time, Pyroscope's rate.</summary>
    public const long PeriodNanos = 10_000_000;

    public static readonly TimeSpan ReadInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan ThreadScanInterval = TimeSpan.FromSeconds(1);

    // Deep enough for an ASP.NET Core request's stack; the kernel caps it at kernel.perf_event_max_stack (127).
    private const ushort MaxStack = 127;

    // 32 KB of ring per thread holds a full second of 100 Hz samples with deep stacks, ten times what a read interval needs.
    private const int DataPages = 8;
    private const int MinDataPages = 1;

    private readonly string _taskDirectory;
    private readonly PerfEventOpener _open;
    private readonly Dictionary<int, Ring> _rings = [];
    private readonly Dictionary<ulong[], int> _stackIds = new(StackComparer.Instance);
    private readonly Dictionary<ulong[], int>.AlternateLookup<ReadOnlySpan<ulong>> _stackLookup;
    private readonly List<ulong[]> _stacks = [];
    private readonly List<long> _counts = [];
    private readonly byte[] _wrapped = new byte[ushort.MaxValue + 1];
    private readonly ulong[] _addresses = new ulong[MaxStack + 1];
    private readonly HashSet<int> _seen = [];
    private readonly ManualResetEventSlim _stopping = new();
    private readonly Thread _reader;
    private int _dataPages = DataPages;
    private long _samples;
    private long _lost;
    private int _threads;
    private bool _stopped;
    private Exception? _readFailure;

    private PerfEventSampler(string taskDirectory, PerfEventOpener open)
    {
        _taskDirectory = taskDirectory;
        _open = open;
        _stackLookup = _stackIds.GetAlternateLookup<ReadOnlySpan<ulong>>();
        _reader = new Thread(ReadUntilStopped) { IsBackground = true, Name = "Profefe perf events" };
    }

    /// <summary>
    /// Starts sampling <paramref name="processId"/>'s threads; null, with why, where perf events cannot be used here
    /// (not Linux, an unknown architecture, perf_event_paranoid 3, seccomp, no permission on the process).
    /// </summary>
    public static PerfEventSampler? TryStart(int processId, out string? failure, PerfEventOpener? open = null)
    {
        failure = null;
        if (!OperatingSystem.IsLinux() || PerfEventInterop.SyscallNumber == 0)
        {
            failure = "perf events need Linux on x64 or arm64";
            return null;
        }

        var directory = $"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/task";
        if (!Directory.Exists(directory))
        {
            failure = directory + " does not exist";
            return null;
        }

        var sampler = new PerfEventSampler(directory, open ?? OpenCpuClock);

        // The process's first thread lives as long as the process: if it cannot be sampled, no thread can.
        if (!sampler.TryAdd(processId, out var errno))
        {
            sampler.Dispose();
            failure = $"perf_event_open on thread {processId.ToString(CultureInfo.InvariantCulture)} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno.ToString(CultureInfo.InvariantCulture)})";
            return null;
        }

        sampler.ScanThreads();
        sampler._reader.Start();
        return sampler;
    }

    /// <summary>Stops sampling and returns what was caught.</summary>
    public PerfCpuStacks Stop()
    {
        if (!_stopped)
        {
            _stopping.Set();
            if (_reader.IsAlive)
            {
                _reader.Join();
            }

            _stopped = true;
            try
            {
                if (_readFailure is not null)
                {
                    throw new InvalidOperationException("reading the perf event rings failed: " + _readFailure.Message, _readFailure);
                }

                DrainAll();
            }
            finally
            {
                CloseAll();
            }
        }

        return new PerfCpuStacks(_stacks, _counts, PeriodNanos, _samples, _lost, _threads);
    }

    public void Dispose()
    {
        Stop();
        _stopping.Dispose();
    }

    private static int OpenCpuClock(int threadId, out int errno) => PerfEventInterop.OpenCpuClock(threadId, PeriodNanos, MaxStack, out errno);

    private void ReadUntilStopped()
    {
        var reads = 0;
        var readsPerScan = (int)(ThreadScanInterval / ReadInterval);
        try
        {
            while (!_stopping.Wait(ReadInterval))
            {
                DrainAll();
                if (++reads % readsPerScan == 0)
                {
                    ScanThreads();
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // An exception on this thread would end the host process: stop reading instead; Stop reads what is left
            // on the round's thread, where a failure ends only the round.
            _readFailure = e;
        }
    }

    /// <summary>Opens events on threads that appeared and closes those of threads that are gone.</summary>
    private void ScanThreads()
    {
        _seen.Clear();
        try
        {
            foreach (var path in Directory.EnumerateDirectories(_taskDirectory))
            {
                if (int.TryParse(Path.GetFileName(path.AsSpan()), NumberStyles.None, CultureInfo.InvariantCulture, out var threadId))
                {
                    _seen.Add(threadId);
                    if (!_rings.ContainsKey(threadId))
                    {
                        // A thread that ended since the listing (ESRCH) is simply not sampled.
                        TryAdd(threadId, out _);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process is gone: what the rings hold is still read at the end.
            return;
        }

        List<int>? gone = null;
        foreach (var threadId in _rings.Keys)
        {
            if (!_seen.Contains(threadId))
            {
                (gone ??= []).Add(threadId);
            }
        }

        foreach (var threadId in gone ?? [])
        {
            var ring = _rings[threadId];
            Drain(ring);
            ring.Close();
            _rings.Remove(threadId);
        }
    }

    private bool TryAdd(int threadId, out int errno)
    {
        var fd = _open(threadId, out errno);
        if (fd < 0)
        {
            return false;
        }

        // Mapped ring memory counts against perf_event_mlock_kb (and then RLIMIT_MEMLOCK): when it runs out, smaller rings.
        while (true)
        {
            var length = (nuint)((_dataPages + 1) * PerfEventInterop.PageSize);
            var address = PerfEventInterop.MapRing(fd, length, out errno);
            if (address is not null)
            {
                _rings.Add(threadId, new Ring(fd, address, length, _dataPages * PerfEventInterop.PageSize));
                _threads++;
                return true;
            }

            if (_dataPages == MinDataPages)
            {
                PerfEventInterop.Close(fd);
                return false;
            }

            _dataPages /= 2;
        }
    }

    private void DrainAll()
    {
        foreach (var ring in _rings.Values)
        {
            Drain(ring);

            // A fixed period locks onto a loop whose iteration takes about as long (or a multiple) and samples the
            // same point of it every time; a period drawn anew around the mean every read breaks the lock.
            PerfEventInterop.SetPeriod(ring.Fd, (ulong)Random.Shared.NextInt64(PeriodNanos / 2, PeriodNanos * 3 / 2));
        }
    }

    private void Drain(Ring ring)
    {
        var meta = ring.Address;
        var data = meta + PerfEventInterop.PageSize;
        var mask = (ulong)ring.DataSize - 1;

        // The kernel publishes data_head after writing the records before it; the reader frees space by moving data_tail.
        var head = Volatile.Read(ref Unsafe.AsRef<ulong>(meta + PerfEventInterop.DataHeadOffset));
        var tail = Unsafe.AsRef<ulong>(meta + PerfEventInterop.DataTailOffset);
        while (tail < head)
        {
            var offset = (int)(tail & mask);

            // Records are 8-byte aligned and the ring a multiple of 8: a record's 8-byte header never wraps.
            var type = Unsafe.ReadUnaligned<uint>(data + offset);
            var size = Unsafe.ReadUnaligned<ushort>(data + offset + 6);
            if (size < 8)
            {
                break;
            }

            ReadOnlySpan<byte> record;
            if (offset + size <= ring.DataSize)
            {
                record = new ReadOnlySpan<byte>(data + offset, size);
            }
            else
            {
                var first = ring.DataSize - offset;
                new ReadOnlySpan<byte>(data + offset, first).CopyTo(_wrapped);
                new ReadOnlySpan<byte>(data, size - first).CopyTo(_wrapped.AsSpan(first));
                record = _wrapped.AsSpan(0, size);
            }

            if (type == PerfEventInterop.RecordSample)
            {
                OnSample(record[8..]);
            }
            else if (type == PerfEventInterop.RecordLost && record.Length >= 24)
            {
                _lost += MemoryMarshal.Read<long>(record[16..]);
            }

            tail += size;
        }

        Volatile.Write(ref Unsafe.AsRef<ulong>(meta + PerfEventInterop.DataTailOffset), tail);
    }

    /// <summary>A sample's body: u32 pid, u32 tid, u64 nr, u64 ips[nr] (PERF_SAMPLE_TID | PERF_SAMPLE_CALLCHAIN).</summary>
    private void OnSample(ReadOnlySpan<byte> body)
    {
        if (body.Length < 16)
        {
            return;
        }

        var entries = MemoryMarshal.Cast<byte, ulong>(body[16..]);
        var nr = (int)Math.Min(MemoryMarshal.Read<ulong>(body[8..]), (ulong)entries.Length);
        var count = 0;
        for (var i = 0; i < nr && count < _addresses.Length; i++)
        {
            // PERF_CONTEXT_USER and its kin mark where a part of the chain starts; they are not frames.
            if (entries[i] < PerfEventInterop.ContextMax && entries[i] != 0)
            {
                _addresses[count++] = entries[i];
            }
        }

        _samples++;
        if (count == 0)
        {
            return;
        }

        var stack = _addresses.AsSpan(0, count);
        if (!_stackLookup.TryGetValue(stack, out var id))
        {
            id = _stacks.Count;
            var copy = stack.ToArray();
            _stackIds.Add(copy, id);
            _stacks.Add(copy);
            _counts.Add(0);
        }

        CollectionsMarshal.AsSpan(_counts)[id]++;
    }

    private void CloseAll()
    {
        foreach (var ring in _rings.Values)
        {
            ring.Close();
        }

        _rings.Clear();
    }

    /// <summary>One thread's event: its fd and mapped pages (the metadata page, then the data ring).</summary>
    private sealed class Ring(int fd, byte* address, nuint length, int dataSize)
    {
        public int Fd { get; } = fd;

        public byte* Address { get; } = address;

        public int DataSize { get; } = dataSize;

        public void Close()
        {
            PerfEventInterop.Unmap(Address, length);
            PerfEventInterop.Close(Fd);
        }
    }

    /// <summary>Compares stacks by their addresses, and looks them up by a span so that a known stack costs no array.</summary>
    private sealed class StackComparer : IEqualityComparer<ulong[]>, IAlternateEqualityComparer<ReadOnlySpan<ulong>, ulong[]>
    {
        public static readonly StackComparer Instance = new();

        public bool Equals(ulong[]? x, ulong[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(ulong[] obj) => GetHashCode(obj.AsSpan());

        public bool Equals(ReadOnlySpan<ulong> alternate, ulong[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<ulong> alternate)
        {
            var hash = default(HashCode);
            hash.AddBytes(MemoryMarshal.AsBytes(alternate));
            return hash.ToHashCode();
        }

        public ulong[] Create(ReadOnlySpan<ulong> alternate) => alternate.ToArray();
    }
}
