namespace Profefe.Agent.Collection;

/// <summary>
/// The runtime's blocking calls: a thread whose stack ends in one of them is waiting, not running, whatever mode the
/// sampler caught it in.
/// </summary>
/// <remarks>
/// The sampler marks a thread "managed" when it stopped it in cooperative mode, which a thread still is for the few
/// instructions between entering <c>Thread.Sleep</c> (or any wait) and switching to preemptive mode to block, and again
/// when it wakes up. Under load those edges catch a steady few percent of a sleeping thread's samples, which would
/// otherwise take a share of the CPU the thread used elsewhere in the same stretch.
/// </remarks>
internal static class BlockingCalls
{
    // Type -> methods, as TraceEvent names them (a source-generated P/Invoke's inner stub is named after its method).
    private static readonly Dictionary<string, HashSet<string>> Methods = new(StringComparer.Ordinal)
    {
        ["System.Threading.Thread"] = Set("Sleep", "SleepInternal", "ThreadNative_Sleep", "Join", "JoinInternal", "ThreadNative_Join"),
        ["System.Threading.Monitor"] = Set("Wait", "ObjWait", "Monitor_Wait"),
        ["System.Threading.WaitHandle"] = Set(
            "WaitOne", "WaitOneNoCheck", "WaitOneCore", "WaitHandle_WaitOneCore", "WaitAny", "WaitAll", "WaitMultiple",
            "WaitMultipleIgnoringSyncContext", "WaitHandle_WaitMultipleIgnoringSyncContext", "SignalAndWait", "SignalAndWaitCore", "WaitHandle_SignalAndWait"),
        ["System.Threading.LowLevelLifoSemaphore"] = Set("WaitForSignal", "WaitNative", "WaitCore"),
        ["System.Threading.LowLevelMonitor"] = Set("Wait", "WaitCore"),
        ["System.GC"] = Set("WaitForPendingFinalizers", "GCInterface_WaitForPendingFinalizers"),
        ["Interop+Sys"] = Set(
            "LowLevelMonitor_Wait", "LowLevelMonitor_TimedWait", "Read", "Receive", "ReceiveMessage", "Accept", "Poll", "WaitForSocketEvents"),
    };

    /// <summary>True when the stack's innermost named frame is a blocking call; unnamed native frames below it are passed over.</summary>
    public static bool EndsInBlockingCall(ResolvedFrame[] frames)
    {
        foreach (var frame in frames)
        {
            if (frame.FunctionName.StartsWith('['))
            {
                continue;
            }

            return IsBlockingCall(frame.FunctionName);
        }

        return false;
    }

    /// <summary>True for "Type.Method" names of the runtime's blocking calls (also their generated P/Invoke stubs).</summary>
    internal static bool IsBlockingCall(string functionName)
    {
        var dot = functionName.LastIndexOf('.');
        if (dot <= 0)
        {
            return false;
        }

        var method = functionName.AsSpan(dot + 1);

        // "<Receive>g____PInvoke|70_0", the stub LibraryImport generates inside Receive.
        if (method.StartsWith("<") && method.IndexOf(">g__", StringComparison.Ordinal) is > 1 and var end)
        {
            method = method[1..end];
        }

        return Methods.TryGetValue(functionName[..dot], out var methods) && methods.GetAlternateLookup<ReadOnlySpan<char>>().Contains(method);
    }

    private static HashSet<string> Set(params string[] methods) => new(methods, StringComparer.Ordinal);
}
