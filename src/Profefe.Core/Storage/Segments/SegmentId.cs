using Profefe.Core.Profiles;

namespace Profefe.Core.Storage.Segments;

/// <summary>
/// A segment object's id: an xid like a profile's (<see cref="ProfileId"/>), so ids begin with their creation
/// time and sort by it, and collectors never coordinate to pick one.
/// </summary>
public readonly record struct SegmentId(ProfileId Value)
{
    public static SegmentId NewId(DateTime timestamp) => new(ProfileId.NewId(timestamp));

    public DateTime Timestamp => Value.Timestamp;

    public static bool TryParse(ReadOnlySpan<char> text, out SegmentId id)
    {
        var parsed = ProfileId.TryParse(text, out var value);
        id = new SegmentId(value);
        return parsed;
    }

    public override string ToString() => Value.ToString();
}
