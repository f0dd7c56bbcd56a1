namespace Profefe.Core.Profiles;

/// <summary>profefe's profile types. The wire names are lower case (cpu, heap, …, other, trace).</summary>
public enum ProfileType
{
    Unknown = 0,
    Cpu = 1,
    Heap = 2,
    Block = 3,
    Mutex = 4,
    Goroutine = 5,
    Threadcreate = 6,
    Other = 7,
    Trace = 8,
}
