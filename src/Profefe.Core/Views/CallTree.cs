using System.Runtime.CompilerServices;
using Profefe.Pprof;

namespace Profefe.Core.Views;

/// <summary>
/// The call tree behind a flame graph: one node per distinct root-first frame path, each with the value of every
/// sample passing through it (total) and ending at it (self). A second channel keeps the base side of a diff.
/// </summary>
/// <remarks>
/// Built by sorting the samples' stacks instead of looking each (parent, frame) pair up in a hash table: in sorted
/// order every stack shares its longest common prefix with the one before it, so each node is created exactly once,
/// in depth-first order (a parent always before its children), and no lookups are needed at all. A 1 MB CPU
/// profile has ~300,000 frames on its stacks and ~200,000 distinct paths; the lookups were most of the time.
/// </remarks>
internal sealed class CallTree
{
    private readonly int[] _name;
    private readonly int[] _parent;
    private readonly long[] _total;
    private readonly long[] _self;
    private readonly long[]? _baseTotal;
    private readonly long[]? _baseSelf;

    private CallTree(FrameTable frames, int count, bool isDiff)
    {
        Frames = frames;
        Count = count;
        _name = new int[count];
        _parent = new int[count];
        _total = new long[count];
        _self = new long[count];
        if (isDiff)
        {
            _baseTotal = new long[count];
            _baseSelf = new long[count];
        }
    }

    public FrameTable Frames { get; }

    public int Count { get; }

    public bool IsDiff => _baseTotal is not null;

    public ReadOnlySpan<int> Name => _name;

    /// <summary>The same as <see cref="Name"/>, for comparers that cannot hold a span.</summary>
    public int[] NameArray => _name;

    public ReadOnlySpan<int> Parent => _parent;

    public ReadOnlySpan<long> Total => _total;

    public ReadOnlySpan<long> Self => _self;

    /// <summary>The base side's totals; empty unless <see cref="IsDiff"/>.</summary>
    public ReadOnlySpan<long> BaseTotal => _baseTotal;

    /// <summary>The base side's self values; empty unless <see cref="IsDiff"/>.</summary>
    public ReadOnlySpan<long> BaseSelf => _baseSelf;

    public static CallTree Build(FrameTable frames, Profile profile, int sampleIndex)
    {
        var stacks = new StackList(frames, []);
        stacks.Add(profile, sampleIndex, isBase: false);
        return stacks.ToTree(FlameGraph.RootName, isDiff: false);
    }

    /// <summary>
    /// The subtree under one frame path (root first, frame ids of <paramref name="frames"/>): only samples whose
    /// stacks start with it count, and the tree's root is the path's last frame.
    /// </summary>
    public static CallTree BuildFocused(FrameTable frames, Profile profile, int sampleIndex, int[] focus)
    {
        var stacks = new StackList(frames, focus);
        stacks.Add(profile, sampleIndex, isBase: false);
        return stacks.ToTree(focus.Length == 0 ? FlameGraph.RootName : frames.Names[focus[^1]], isDiff: false);
    }

    /// <summary>Both profiles in one tree: totals are base + new, and the base channel holds the base side alone.</summary>
    public static CallTree BuildDiff(FrameTable frames, Profile baseProfile, int baseSampleIndex, Profile newProfile, int newSampleIndex)
    {
        var stacks = new StackList(frames, []);
        stacks.Add(baseProfile, baseSampleIndex, isBase: true);
        stacks.Add(newProfile, newSampleIndex, isBase: false);
        return stacks.ToTree(FlameGraph.RootName, isDiff: true);
    }

    /// <summary>Every sample's stack as frame ids, root first, in one flat array; with a focus, only the part below it.</summary>
    private sealed class StackList(FrameTable frames, int[] focus)
    {
        private int[] _frames = [];
        private int _frameCount;
        private int[] _start = [];
        private int[] _length = [];
        private long[] _value = [];
        private bool[] _isBase = [];
        private int _count;

        public void Add(Profile profile, int sampleIndex, bool isBase)
        {
            // Sized for the whole profile up front (inlined frames aside): growing a large array copies it.
            var frameCount = _frameCount;
            foreach (var sample in profile.Samples)
            {
                frameCount += sample.Locations.Length;
            }

            Reserve(_count + profile.Samples.Count, frameCount);
            foreach (var sample in profile.Samples)
            {
                if (sampleIndex >= sample.Values.Length || sample.Values[sampleIndex] == 0)
                {
                    continue;
                }

                var start = _frameCount;
                var locations = sample.Locations;
                for (var i = locations.Length - 1; i >= 0; i--)
                {
                    var locationFrames = frames.FramesOf(locations[i]);
                    if (_frameCount + locationFrames.Length > _frames.Length)
                    {
                        Array.Resize(ref _frames, Math.Max(_frames.Length * 2, _frameCount + locationFrames.Length));
                    }

                    locationFrames.CopyTo(_frames, _frameCount);
                    _frameCount += locationFrames.Length;
                }

                if (focus.Length > 0)
                {
                    if (!_frames.AsSpan(start, _frameCount - start).StartsWith(focus))
                    {
                        _frameCount = start;
                        continue;
                    }

                    start += focus.Length;
                }

                _start[_count] = start;
                _length[_count] = _frameCount - start;
                _value[_count] = sample.Values[sampleIndex];
                _isBase[_count] = isBase;
                _count++;
            }
        }

        private void Reserve(int samples, int frames)
        {
            if (samples > _start.Length)
            {
                Array.Resize(ref _start, samples);
                Array.Resize(ref _length, samples);
                Array.Resize(ref _value, samples);
                Array.Resize(ref _isBase, samples);
            }

            if (frames > _frames.Length)
            {
                Array.Resize(ref _frames, frames);
            }
        }

        // Called once per view and loops over every frame: optimized code from the first call, not tier-0 then OSR.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public CallTree ToTree(string rootName, bool isDiff)
        {
            var order = new int[_count];
            for (var i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }

            Array.Sort(order, new StackComparer(this));

            // First pass: how many nodes (each stack adds those below its common prefix with the previous one).
            var shared = new int[_count];
            var nodeCount = 1;
            var maxDepth = 0;
            for (var i = 0; i < order.Length; i++)
            {
                var stack = Stack(order[i]);
                shared[i] = i == 0 ? 0 : Stack(order[i - 1]).CommonPrefixLength(stack);
                nodeCount += stack.Length - shared[i];
                maxDepth = Math.Max(maxDepth, stack.Length);
            }

            var tree = new CallTree(frames, nodeCount, isDiff);
            tree._name[0] = frames.Intern(rootName);
            tree._parent[0] = -1;

            // path[d] is the node at depth d on the current stack; depth 0 is the root.
            var path = new int[maxDepth + 1];
            var next = 1;
            for (var i = 0; i < order.Length; i++)
            {
                var sample = order[i];
                var stack = Stack(sample);
                var node = path[shared[i]];
                for (var depth = shared[i]; depth < stack.Length; depth++)
                {
                    tree._name[next] = stack[depth];
                    tree._parent[next] = node;
                    node = next++;
                    path[depth + 1] = node;
                }

                tree._self[node] += _value[sample];
                if (_isBase[sample])
                {
                    tree._baseSelf![node] += _value[sample];
                }
            }

            // Children come after their parents, so one backward pass sums self values up into totals.
            tree._self.CopyTo(tree._total, 0);
            tree._baseSelf?.CopyTo(tree._baseTotal!, 0);
            for (var node = nodeCount - 1; node > 0; node--)
            {
                tree._total[tree._parent[node]] += tree._total[node];
                if (isDiff)
                {
                    tree._baseTotal![tree._parent[node]] += tree._baseTotal[node];
                }
            }

            return tree;
        }

        private ReadOnlySpan<int> Stack(int sample) => _frames.AsSpan(_start[sample], _length[sample]);

        private sealed class StackComparer(StackList stacks) : IComparer<int>
        {
            public int Compare(int x, int y)
            {
                var a = stacks.Stack(x);
                var b = stacks.Stack(y);
                var common = a.CommonPrefixLength(b);
                if (common < a.Length && common < b.Length)
                {
                    return a[common].CompareTo(b[common]);
                }

                // A stack that is a prefix of another (its caller) sorts first; equal stacks keep sample order.
                var byLength = a.Length.CompareTo(b.Length);
                return byLength != 0 ? byLength : x.CompareTo(y);
            }
        }
    }
}
