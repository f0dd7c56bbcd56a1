namespace Profefe.Soak;

internal sealed record SoakOptions(TimeSpan Duration, long MemoryLimitBytes, string? CollectorDll);
