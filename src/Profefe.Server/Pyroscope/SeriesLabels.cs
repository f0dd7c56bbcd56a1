using Profefe.Core.Profiles;

namespace Profefe.Server.Pyroscope;

/// <summary>
/// The one mapping between profefe's data model and Pyroscope's: a profile's service is the series' service_name,
/// its type is the series' __name__ (cpu is process_cpu, heap is memory, …), its labels are the series' other labels.
/// A Pyroscope name no profefe type stands for (wall, exceptions, …) is stored as type other with a __name__ label,
/// so it comes back as it went in.
/// </summary>
internal static class SeriesLabels
{
    public const string ServiceName = "service_name";
    public const string MetricName = "__name__";
    public const string ProfileTypeName = "__profile_type__";
    public const string SampleTypeName = "__type__";
    public const string SampleUnitName = "__unit__";
    public const string PeriodTypeName = "__period_type__";
    public const string PeriodUnitName = "__period_unit__";

    /// <summary>Whether a matcher on <paramref name="name"/> needs the profile's sample types, not just its meta.</summary>
    public static bool IsProfileTypeLabel(string name) =>
        name is ProfileTypeName or SampleTypeName or SampleUnitName or PeriodTypeName or PeriodUnitName;

    /// <summary>A stored series' labels with those Pyroscope gives each of its profile types, sorted by name.</summary>
    public static List<Label> WithProfileType(IReadOnlyList<Label> labels, string profileTypeId, string sampleType, string sampleUnit, string periodType, string periodUnit)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var all = new List<Label>(labels.Count + 5);
        all.AddRange(labels);
        all.Add(new Label(ProfileTypeName, profileTypeId));
        all.Add(new Label(SampleTypeName, sampleType));
        all.Add(new Label(SampleUnitName, sampleUnit));
        all.Add(new Label(PeriodTypeName, periodType));
        all.Add(new Label(PeriodUnitName, periodUnit));
        all.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return all;
    }

    /// <summary>The series labels of a stored profile, sorted by name.</summary>
    public static List<Label> Of(ProfileMeta meta)
    {
        ArgumentNullException.ThrowIfNull(meta);
        return Of(meta.Service, meta.Type, meta.Labels);
    }

    /// <summary>The series labels of the stored series of <paramref name="service"/>, <paramref name="type"/> and <paramref name="stored"/> labels, sorted by name.</summary>
    public static List<Label> Of(string service, ProfileType type, IReadOnlyList<Label> stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var labels = new List<Label>(stored.Count + 2);
        var name = NameOf(type);
        foreach (var label in stored)
        {
            if (label.Key == MetricName)
            {
                name = label.Value;
            }
            else if (label.Key != ServiceName)
            {
                labels.Add(label);
            }
        }

        labels.Add(new Label(MetricName, name));
        labels.Add(new Label(ServiceName, service));
        labels.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return labels;
    }

    /// <summary>The __name__ of a profefe type.</summary>
    public static string NameOf(ProfileType type) => type switch
    {
        ProfileType.Cpu => "process_cpu",
        ProfileType.Heap => "memory",
        ProfileType.Block => "block",
        ProfileType.Mutex => "mutex",
        ProfileType.Goroutine => "goroutine",
        _ => ProfileTypeNames.ToWireName(type),
    };

    /// <summary>The profefe type a series named <paramref name="name"/> is stored as; what is stored under it has this type.</summary>
    public static ProfileType TypeOf(string name) => name switch
    {
        "process_cpu" => ProfileType.Cpu,
        "memory" => ProfileType.Heap,
        "block" => ProfileType.Block,
        "mutex" => ProfileType.Mutex,
        "goroutine" or "goroutines" => ProfileType.Goroutine,
        "threadcreate" => ProfileType.Threadcreate,
        _ => ProfileType.Other,
    };

    /// <summary>
    /// How a Pyroscope series is stored: its service, type and labels (without service_name, and with __name__
    /// only when the type does not say it). Labels Pyroscope reserves (__delta__, __session_id__, …) are dropped.
    /// </summary>
    public static (string Service, ProfileType Type, IReadOnlyList<Label> Labels) ToStored(string name, string service, IEnumerable<Label> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var type = TypeOf(name);
        var stored = new List<Label>();
        foreach (var label in labels)
        {
            if (label.Key is not ServiceName && !label.Key.StartsWith("__", StringComparison.Ordinal))
            {
                stored.Add(label);
            }
        }

        if (NameOf(type) != name)
        {
            stored.Add(new Label(MetricName, name));
        }

        return (service, type, LabelParser.Sort(stored));
    }
}
