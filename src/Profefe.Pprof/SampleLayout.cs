using System.Text;

namespace Profefe.Pprof;

/// <summary>
/// What decides whether profiles merge (<see cref="ProfileMerger"/>): their sample types, type and unit in order,
/// and their period type, written as one text, "[samples/count cpu/nanoseconds] period cpu/nanoseconds".
/// Two profiles merge exactly when their layouts are equal.
/// </summary>
public static class SampleLayout
{
    public static string Describe(IReadOnlyList<SampleType> sampleTypes, SampleType? periodType)
    {
        ArgumentNullException.ThrowIfNull(sampleTypes);
        var text = new StringBuilder("[");
        for (var i = 0; i < sampleTypes.Count; i++)
        {
            text.Append(i == 0 ? "" : " ").Append(sampleTypes[i].Type).Append('/').Append(sampleTypes[i].Unit);
        }

        text.Append(']');

        // The merger takes a missing period type for an empty one.
        if (periodType is not null && (periodType.Type.Length > 0 || periodType.Unit.Length > 0))
        {
            text.Append(" period ").Append(periodType.Type).Append('/').Append(periodType.Unit);
        }

        return text.ToString();
    }
}
