using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace Profefe.Agent.Collection;

/// <summary>
/// The code ranges of a round's managed methods, from the runtime's own events: methods compiled while the session runs
/// (JIT, Verbose) and every method alive when it stops (the rundown at the session's end). It names instruction addresses
/// that no EventPipe stack brought, such as those of perf-event samples.
/// </summary>
internal sealed class MethodMap
{
    private readonly List<MethodRange> _ranges = [];
    private readonly Dictionary<long, string> _modules = [];
    private MethodRange[]? _sorted;

    public int Count => _ranges.Count;

    public void Subscribe(TraceEventDispatcher source)
    {
        var clr = new ClrTraceEventParser(source);
        clr.MethodLoadVerbose += OnMethod;
        clr.LoaderModuleLoad += OnModule;
        var rundown = new ClrRundownTraceEventParser(source);
        rundown.MethodDCStopVerbose += OnMethod;
        rundown.LoaderModuleDCStop += OnModule;
    }

    /// <summary>The method whose code holds <paramref name="address"/>: its name (without signature) and module; null when none.</summary>
    public (string Name, string Module)? Find(ulong address)
    {
        var sorted = Sorted();
        int low = 0, high = sorted.Length - 1;
        while (low <= high)
        {
            var middle = low + ((high - low) / 2);
            var range = sorted[middle];
            if (address < range.Start)
            {
                high = middle - 1;
            }
            else if (address >= range.Start + range.Size)
            {
                low = middle + 1;
            }
            else
            {
                return (range.Name, _modules.GetValueOrDefault(range.ModuleId, ""));
            }
        }

        return null;
    }

    internal void Add(ulong start, uint size, string name, long moduleId) =>
        _ranges.Add(new MethodRange(start, size, name, moduleId));

    internal void AddModule(long moduleId, string path) => _modules[moduleId] = StackResolver.ModuleName(Path.GetFileName(path));

    private void OnMethod(MethodLoadUnloadVerboseTraceData data)
    {
        if (data.MethodSize > 0)
        {
            var type = data.MethodNamespace;
            Add(data.MethodStartAddress, (uint)data.MethodSize, type.Length == 0 ? data.MethodName : type + "." + data.MethodName, data.ModuleID);
        }
    }

    private void OnModule(ModuleLoadUnloadTraceData data) =>
        AddModule(data.ModuleID, data.ModuleILPath.Length > 0 ? data.ModuleILPath : data.ModuleNativePath);

    private MethodRange[] Sorted()
    {
        if (_sorted is null || _sorted.Length != _ranges.Count)
        {
            // A method compiled again (tiering) gets new code at a new address; the old code stays valid until it is freed.
            _sorted = [.. _ranges];
            Array.Sort(_sorted, static (a, b) => a.Start.CompareTo(b.Start));
        }

        return _sorted;
    }

    private readonly record struct MethodRange(ulong Start, uint Size, string Name, long ModuleId);
}
