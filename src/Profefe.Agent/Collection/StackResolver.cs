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
    private readonly Dictionary<ulong, ResolvedFrame> _addressFrames = [];
    private readonly MethodMap? _methods;
    private readonly List<ResolvedFrame> _scratch = [];
    private NativeModuleMap? _nativeModules;
    private bool _nativeModulesLoaded;

    public StackResolver(TraceLog log, int processId, bool excludeAgent, MethodMap? methods = null)
    {
        _log = log;
        _methods = methods;
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

        var result = agent ? null : TakeScratch();
        _stacks.Add(callStackIndex, result);
        return result;
    }

    /// <summary>
    /// The frames of a stack of raw instruction addresses (leaf first), as perf events caught it, named by the round's
    /// <see cref="MethodMap"/> and the process's native modules; null for the agent's own stacks.
    /// </summary>
    public ResolvedFrame[]? Resolve(ReadOnlySpan<ulong> addresses)
    {
        _scratch.Clear();
        for (var i = 0; i < addresses.Length; i++)
        {
            // Above the leaf each address is where a call returns to, which may already be the next method's first byte.
            var frame = FrameAt(i == 0 ? addresses[i] : addresses[i] - 1);
            if (_excludeAgent && IsAgentModule(frame.Module))
            {
                return null;
            }

            _scratch.Add(frame);
        }

        return TakeScratch();
    }

    private ResolvedFrame[] TakeScratch()
    {
        // Samples land on safe points: a loop's GC poll shows up as the leaf although its caller does the work.
        var skip = 0;
        while (skip < _scratch.Count - 1 && IsSafePointFrame(_scratch[skip].FunctionName))
        {
            skip++;
        }

        var result = new ResolvedFrame[_scratch.Count - skip];
        _scratch.CopyTo(skip, result, 0, result.Length);
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
            (name, module) = NameUnnamed(address, module);
        }

        frame = new ResolvedFrame(key, name, module, address);
        _frames.Add(key, frame);
        return frame;
    }

    private ResolvedFrame FrameAt(ulong address)
    {
        if (!_addressFrames.TryGetValue(address, out var frame))
        {
            var (name, module) = NameUnnamed(address, "");

            // Negative keys keep these apart from TraceLog's code address indexes.
            frame = new ResolvedFrame(-1 - _addressFrames.Count, name, module, address);
            _addressFrames.Add(address, frame);
        }

        return frame;
    }

    /// <summary>Names code the trace's stacks did not: a method the round's <see cref="MethodMap"/> knows, else the native file.</summary>
    private (string Name, string Module) NameUnnamed(ulong address, string module)
    {
        if (_methods?.Find(address) is { } method)
        {
            return (method.Name, module.Length == 0 ? method.Module : module);
        }

        // Precompiled stubs and native code: the runtime names neither, but the process's maps know the file.
        if (module.Length == 0)
        {
            module = NativeModules()?.FindModule(address) ?? "";
        }

        return (module.Length == 0 ? "[unknown]" : "[" + module + "]", module);
    }

    internal static string ModuleName(string name) =>
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
