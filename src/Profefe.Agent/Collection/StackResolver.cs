using Microsoft.Diagnostics.Tracing.Etlx;

namespace Profefe.Agent.Collection;

/// <summary>
/// Turns the call stacks TraceLog interned during a round into frames (leaf first), folding the runtime's
/// safe-point frames into their caller and, in-process, recognising the agent's own threads.
/// </summary>
internal sealed class StackResolver
{
    private const string SemaphoreWait = "System.Threading.LowLevelLifoSemaphore.Wait";

    // Modules whose frames mark a sample as the agent's own work when it profiles its own process.
    private static readonly string[] AgentModules =
    [
        "Profefe.Agent",
        "Profefe.Client",
        "Microsoft.Diagnostics.Tracing.TraceEvent",
        "Microsoft.Diagnostics.NETCore.Client",
        "Microsoft.Diagnostics.FastSerialization",
    ];

    private readonly TraceLog _log;
    private readonly bool _excludeAgent;
    private readonly int _processId;
    private readonly Dictionary<int, ResolvedFrame[]?> _stacks = [];
    private readonly Dictionary<int, ResolvedFrame> _frames = [];
    private readonly List<ResolvedFrame> _scratch = [];
    private NativeModuleMap? _nativeModules;
    private bool _nativeModulesLoaded;

    public StackResolver(TraceLog log, int processId, bool excludeAgent)
    {
        _log = log;
        _processId = processId;
        _excludeAgent = excludeAgent;
    }

    /// <summary>The frames of a stack, leaf first; null for the agent's own stacks; empty when the event had no stack.</summary>
    public ResolvedFrame[]? Resolve(int callStackIndex)
    {
        if (callStackIndex < 0)
        {
            return [];
        }

        if (_stacks.TryGetValue(callStackIndex, out var cached))
        {
            return cached;
        }

        _scratch.Clear();
        var agent = false;
        var stacks = _log.CallStacks;
        for (var index = (CallStackIndex)callStackIndex; index != CallStackIndex.Invalid; index = stacks.Caller(index))
        {
            var frame = FrameOf(stacks.CodeAddressIndex(index));
            if (_excludeAgent && IsAgentModule(frame.Module))
            {
                agent = true;
                break;
            }

            _scratch.Add(frame);
        }

        // Samples land on safe points: a loop's GC poll shows up as the leaf although its caller does the work.
        var skip = 0;
        while (skip < _scratch.Count - 1 && IsSafePointFrame(_scratch[skip].FunctionName))
        {
            skip++;
        }

        ResolvedFrame[]? result = null;
        if (!agent)
        {
            result = new ResolvedFrame[_scratch.Count - skip];
            _scratch.CopyTo(skip, result, 0, result.Length);
        }

        _stacks.Add(callStackIndex, result);
        return result;
    }

    /// <summary>A thread-pool worker spinning while it waits for work (in the semaphore or its spin waiter).</summary>
    internal static bool IsThreadPoolIdleSpin(ResolvedFrame[] frames) =>
        frames.Length > 0
        && (frames[0].FunctionName == SemaphoreWait
            || (frames.Length > 1 && frames[0].FunctionName == "System.Threading.LowLevelSpinWaiter.Wait" && frames[1].FunctionName == SemaphoreWait));

    internal static bool IsSafePointFrame(string name) =>
        name.StartsWith("System.Threading.Thread.", StringComparison.Ordinal) && name.Contains("PollGC", StringComparison.Ordinal);

    /// <summary>A method's full name without its parameter list ("Ns.Type.Method(int32)" → "Ns.Type.Method").</summary>
    internal static string TrimSignature(string fullMethodName)
    {
        var paren = fullMethodName.IndexOf('(', StringComparison.Ordinal);
        return paren > 0 ? fullMethodName[..paren] : fullMethodName;
    }

    private static bool IsAgentModule(string module)
    {
        foreach (var candidate in AgentModules)
        {
            if (string.Equals(module, candidate, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private ResolvedFrame FrameOf(CodeAddressIndex codeAddress)
    {
        var key = (int)codeAddress;
        if (_frames.TryGetValue(key, out var frame))
        {
            return frame;
        }

        var addresses = _log.CodeAddresses;
        var address = addresses.Address(codeAddress);
        var method = addresses.MethodIndex(codeAddress);
        var moduleFile = addresses.ModuleFile(codeAddress);
        var module = moduleFile is null ? "" : ModuleName(moduleFile.Name);
        var name = method == MethodIndex.Invalid ? "" : TrimSignature(addresses.Methods.FullMethodName(method));
        if (name.Length == 0)
        {
            // Precompiled stubs and native code: the runtime names neither, but the process's maps know the file.
            if (module.Length == 0)
            {
                module = NativeModules()?.FindModule(address) ?? "";
            }

            name = module.Length == 0 ? "[unknown]" : "[" + module + "]";
        }

        frame = new ResolvedFrame(key, name, module, address);
        _frames.Add(key, frame);
        return frame;
    }

    private static string ModuleName(string name) =>
        name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? name[..^4] : name;

    private NativeModuleMap? NativeModules()
    {
        if (!_nativeModulesLoaded)
        {
            _nativeModulesLoaded = true;
            _nativeModules = NativeModuleMap.TryLoad(_processId);
        }

        return _nativeModules;
    }
}
