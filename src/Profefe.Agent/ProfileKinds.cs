namespace Profefe.Agent;

/// <summary>Which profiles the agent collects in each round.</summary>
[Flags]
public enum ProfileKinds
{
    /// <summary>Collect nothing.</summary>
    None = 0,

    /// <summary>
    /// <c>cpu</c>: stack samples of threads on a CPU (<c>samples/count</c>, <c>cpu/nanoseconds</c>), from Linux perf events
    /// (<see cref="ProfefeAgentOptions.PerfEvents"/>) or else EventPipe's sample profiler.
    /// </summary>
    Cpu = 1,

    /// <summary>
    /// Wall time: stack samples of every managed thread, running or waiting, pushed as type <c>other</c>
    /// with the label <c>profile=wall</c> (<c>samples/count</c>, <c>wall/nanoseconds</c>).
    /// </summary>
    Wall = 2,

    /// <summary>
    /// <c>heap</c>: sampled allocations upscaled to estimates (<c>alloc_objects/count</c>, <c>alloc_space/bytes</c>),
    /// with the allocated type as the leaf frame and as the sample label <c>type</c>.
    /// </summary>
    Heap = 4,

    /// <summary><c>mutex</c>: lock contention (<c>contentions/count</c>, <c>delay/nanoseconds</c>).</summary>
    Mutex = 8,

    /// <summary>Every profile above.</summary>
    All = Cpu | Wall | Heap | Mutex,
}
