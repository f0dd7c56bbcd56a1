using Profefe.Pprof;

namespace Profefe.Core.Views;

/// <summary>
/// The call tree behind a flame graph: one node per distinct root-first frame path, each with the value of every
/// sample passing through it (total) and ending at it (self). A second channel keeps the base side of a diff.
/// </summary>
internal sealed class CallTree
{
    private readonly Dictionary<long, int> _children = [];
    private int[] _name = new int[1024];
    private int[] _parent = new int[1024];
    private long[] _total = new long[1024];
    private long[] _self = new long[1024];
    private long[] _baseTotal = new long[1024];
    private long[] _baseSelf = new long[1024];

    public CallTree(FrameTable frames)
    {
        Frames = frames;
        _name[0] = frames.Intern(FlameGraph.RootName);
        _parent[0] = -1;
        Count = 1;
    }

    public FrameTable Frames { get; }

    public int Count { get; private set; }

    public ReadOnlySpan<int> Name => _name.AsSpan(0, Count);

    public ReadOnlySpan<int> Parent => _parent.AsSpan(0, Count);

    public ReadOnlySpan<long> Total => _total.AsSpan(0, Count);

    public ReadOnlySpan<long> Self => _self.AsSpan(0, Count);

    public ReadOnlySpan<long> BaseTotal => _baseTotal.AsSpan(0, Count);

    public ReadOnlySpan<long> BaseSelf => _baseSelf.AsSpan(0, Count);

    /// <summary>Adds every sample's value of <paramref name="sampleIndex"/>; base samples also count in the base channel.</summary>
    public void Add(Profile profile, int sampleIndex, bool isBase)
    {
        foreach (var sample in profile.Samples)
        {
            if (sampleIndex >= sample.Values.Length)
            {
                continue;
            }

            var value = sample.Values[sampleIndex];
            if (value == 0)
            {
                continue;
            }

            var node = 0;
            Accumulate(node, value, isBase);
            var locations = sample.Locations;
            for (var i = locations.Length - 1; i >= 0; i--)
            {
                foreach (var frame in Frames.FramesOf(locations[i]))
                {
                    node = Child(node, frame);
                    Accumulate(node, value, isBase);
                }
            }

            _self[node] += value;
            if (isBase)
            {
                _baseSelf[node] += value;
            }
        }
    }

    private void Accumulate(int node, long value, bool isBase)
    {
        _total[node] += value;
        if (isBase)
        {
            _baseTotal[node] += value;
        }
    }

    private int Child(int parent, int name)
    {
        var key = ((long)parent << 32) | (uint)name;
        if (_children.TryGetValue(key, out var child))
        {
            return child;
        }

        if (Count == _name.Length)
        {
            var size = Count * 2;
            Array.Resize(ref _name, size);
            Array.Resize(ref _parent, size);
            Array.Resize(ref _total, size);
            Array.Resize(ref _self, size);
            Array.Resize(ref _baseTotal, size);
            Array.Resize(ref _baseSelf, size);
        }

        child = Count++;
        _name[child] = name;
        _parent[child] = parent;
        _children.Add(key, child);
        return child;
    }
}
