using Profefe.Pprof;
using Profefe.Server.Pyroscope.Connect;
using Profefe.Server.Pyroscope.Protos.Types;

namespace Profefe.Server.Pyroscope.Query;

/// <summary>A Pyroscope profile type: <c>name:sample_type:sample_unit:period_type:period_unit</c>, e.g. process_cpu:cpu:nanoseconds:cpu:nanoseconds.</summary>
internal sealed record ProfileTypeId(string Name, string SampleType, string SampleUnit, string PeriodType, string PeriodUnit)
{
    public string Id => $"{Name}:{SampleType}:{SampleUnit}:{PeriodType}:{PeriodUnit}";

    public static ProfileTypeId Of(string name, SampleType sampleType, SampleType? periodType)
    {
        ArgumentNullException.ThrowIfNull(sampleType);
        return new(name, sampleType.Type, sampleType.Unit, periodType?.Type ?? "", periodType?.Unit ?? "");
    }

    /// <summary>Whether a profile of this series name and period type has this type at <paramref name="sampleType"/>.</summary>
    public bool Matches(string name, SampleType sampleType, SampleType? periodType) =>
        name == Name && sampleType.Type == SampleType && sampleType.Unit == SampleUnit
        && (periodType?.Type ?? "") == PeriodType && (periodType?.Unit ?? "") == PeriodUnit;

    public ProfileType ToMessage() => new()
    {
        ID = Id,
        Name = Name,
        SampleType = SampleType,
        SampleUnit = SampleUnit,
        PeriodType = PeriodType,
        PeriodUnit = PeriodUnit,
    };

    /// <exception cref="ConnectException">invalid_argument when the id does not have five parts.</exception>
    public static ProfileTypeId Parse(string? id)
    {
        var parts = (id ?? "").Split(':');
        if (parts.Length is not (5 or 6) || parts[0].Length == 0 || parts[1].Length == 0)
        {
            throw ConnectException.InvalidArgument(
                $"bad profile type \"{id}\": want <name>:<sample type>:<sample unit>:<period type>:<period unit>, e.g. process_cpu:cpu:nanoseconds:cpu:nanoseconds");
        }

        return new ProfileTypeId(parts[0], parts[1], parts[2], parts[3], parts[4]);
    }
}
