using System.Runtime.InteropServices;

namespace Profefe.Agent.Collection.PerfEvents;

/// <summary>
/// Linux's perf_event_open(2) and the calls around it. Hand-written: .NET has no binding for perf events, and the
/// ring buffer the kernel shares is read in place (raw pointers into the mapped pages) so that a sample costs no copy
/// and no allocation.
/// </summary>
internal static unsafe partial class PerfEventInterop
{
    public const uint TypeSoftware = 1;
    public const ulong CountSoftwareCpuClock = 0;
    public const ulong SampleTid = 1 << 1;
    public const ulong SampleCallchain = 1 << 5;
    public const ulong FlagExcludeKernel = 1 << 5;
    public const ulong FlagExcludeHypervisor = 1 << 6;
    public const ulong FlagExcludeCallchainKernel = 1 << 21;
    public const uint RecordLost = 2;
    public const uint RecordSample = 9;

    /// <summary>Callchain entries at or above this are context markers (PERF_CONTEXT_USER, ...), not addresses.</summary>
    public const ulong ContextMax = unchecked((ulong)-4095L);

    /// <summary>PERF_ATTR_SIZE_VER5: every field up to sample_max_stack, which kernels since 4.8 know.</summary>
    public const int AttrSize = 112;

    private const ulong FlagFdCloexec = 8;
    private const ulong IoctlPeriod = 0x40082404; // PERF_EVENT_IOC_PERIOD: _IOW('$', 4, __u64)
    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapShared = 1;

    // The data_head, data_tail, data_offset and data_size fields of struct perf_event_mmap_page.
    public const int DataHeadOffset = 1024;
    public const int DataTailOffset = 1032;

    public static readonly int PageSize = Environment.SystemPageSize;

    /// <summary>struct perf_event_attr up to sample_max_stack (PERF_ATTR_SIZE_VER5).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct EventAttr
    {
        public uint Type;
        public uint Size;
        public ulong Config;
        public ulong SamplePeriod;
        public ulong SampleType;
        public ulong ReadFormat;
        public ulong Flags;
        public uint WakeupEvents;
        public uint BreakpointType;
        public ulong Config1;
        public ulong Config2;
        public ulong BranchSampleType;
        public ulong SampleRegsUser;
        public uint SampleStackUser;
        public int ClockId;
        public ulong SampleRegsIntr;
        public uint AuxWatermark;
        public ushort SampleMaxStack;
        public ushort Reserved;
    }

    /// <summary>The perf_event_open syscall's number on this architecture; 0 where it is not known.</summary>
    public static long SyscallNumber => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 298,
        Architecture.Arm64 => 241,
        _ => 0,
    };

    /// <summary>Opens a CPU-clock sampling event on one thread; returns the fd, or -1 with the errno.</summary>
    public static int OpenCpuClock(int threadId, ulong periodNanos, ushort maxStack, out int errno)
    {
        var attr = new EventAttr
        {
            Type = TypeSoftware,
            Size = AttrSize,
            Config = CountSoftwareCpuClock,
            SamplePeriod = periodNanos,
            SampleType = SampleTid | SampleCallchain,
            // User space only: with perf_event_paranoid 2 (the common default) a process may not sample the kernel.
            Flags = FlagExcludeKernel | FlagExcludeHypervisor | FlagExcludeCallchainKernel,
            SampleMaxStack = maxStack,
        };
        var fd = (int)syscall(SyscallNumber, &attr, threadId, -1, -1, FlagFdCloexec);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd;
    }

    /// <summary>Maps an event's metadata page and ring buffer; null with the errno when it cannot.</summary>
    public static byte* MapRing(int fd, nuint length, out int errno)
    {
        var address = mmap(null, length, ProtRead | ProtWrite, MapShared, fd, 0);
        errno = address == (void*)-1 ? Marshal.GetLastPInvokeError() : 0;
        return address == (void*)-1 ? null : (byte*)address;
    }

    /// <summary>Sets the event's sampling period from its next sample on.</summary>
    public static void SetPeriod(int fd, ulong periodNanos) => _ = ioctl(fd, IoctlPeriod, &periodNanos);

    public static void Unmap(byte* address, nuint length) => _ = munmap(address, length);

    public static void Close(int fd) => _ = close(fd);

    // syscall(2) is variadic; on x64 and arm64 Linux integer arguments go in the same registers either way.
    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, EventAttr* attr, int pid, int cpu, int groupFd, ulong flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial void* mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(void* address, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ioctl(int fd, ulong request, ulong* argument);
}
