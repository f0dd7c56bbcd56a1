using System.Text.Json;
using Profefe.Core.Profiles;
using Profefe.Core.Views;
using Profefe.Pprof;

namespace Profefe.Server.Ui;

/// <summary>
/// Writes the UI's view models as compact JSON: flame-graph levels and top-table rows as plain arrays, because
/// a big profile has tens of thousands of numbers and the browser reads them by index anyway.
/// </summary>
internal static class UiJson
{
    public static void WriteFlameGraph(Utf8JsonWriter json, FlameGraph graph)
    {
        json.WriteStartObject();
        json.WriteNumber("total", graph.Total);
        json.WriteNumber("stride", graph.Stride);
        json.WriteNumber("nodeCount", graph.NodeCount);
        json.WriteBoolean("truncated", graph.Truncated);
        if (graph.Diff is { } diff)
        {
            json.WriteStartObject("diff");
            json.WriteNumber("baseTotal", diff.BaseTotal);
            json.WriteNumber("newTotal", diff.NewTotal);
            json.WriteEndObject();
        }

        json.WriteStartArray("names");
        foreach (var name in graph.Names)
        {
            json.WriteStringValue(name);
        }

        json.WriteEndArray();
        json.WriteStartArray("levels");
        foreach (var level in graph.Levels)
        {
            json.WriteStartArray();
            foreach (var value in level)
            {
                json.WriteNumberValue(value);
            }

            json.WriteEndArray();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>Rows are <c>[name, file, flat, cum]</c>, or <c>[name, file, flat, cum, baseFlat, baseCum]</c> for a diff.</summary>
    public static void WriteTopTable(Utf8JsonWriter json, TopTable table)
    {
        json.WriteStartObject();
        json.WriteNumber("total", table.Total);
        if (table.BaseTotal is { } baseTotal)
        {
            json.WriteNumber("baseTotal", baseTotal);
        }

        json.WriteStartArray("rows");
        foreach (var row in table.Rows)
        {
            json.WriteStartArray();
            json.WriteStringValue(row.Name);
            json.WriteStringValue(row.File);
            json.WriteNumberValue(row.Flat);
            json.WriteNumberValue(row.Cum);
            if (table.BaseTotal is not null)
            {
                json.WriteNumberValue(row.BaseFlat);
                json.WriteNumberValue(row.BaseCum);
            }

            json.WriteEndArray();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void WriteMeta(Utf8JsonWriter json, ProfileMeta meta)
    {
        json.WriteStartObject();
        json.WriteString("id", meta.ProfileId.ToString());
        json.WriteString("type", ProfileTypeNames.ToWireName(meta.Type));
        json.WriteString("service", meta.Service);
        WriteLabels(json, meta.Labels);
        json.WriteString("created_at", meta.CreatedAt.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
        json.WriteEndObject();
    }

    public static void WriteLabels(Utf8JsonWriter json, IReadOnlyList<Label> labels)
    {
        json.WriteStartArray("labels");
        foreach (var label in labels)
        {
            json.WriteStartObject();
            json.WriteString("key", label.Key);
            json.WriteString("value", label.Value);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>What <c>go tool pprof</c> would print in its header: sample types, period, duration, comments.</summary>
    public static void WriteProfileSummary(Utf8JsonWriter json, Profile profile, int sampleIndex)
    {
        json.WriteStartArray("sampleTypes");
        foreach (var type in profile.SampleTypes)
        {
            json.WriteStartObject();
            json.WriteString("type", type.Type);
            json.WriteString("unit", type.Unit);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteNumber("sampleIndex", sampleIndex);
        json.WriteString("sampleType", profile.SampleTypes[sampleIndex].Type);
        json.WriteString("unit", profile.SampleTypes[sampleIndex].Unit);
        json.WriteNumber("samples", profile.Samples.Count);
        json.WriteNumber("timeNanos", profile.TimeNanos);
        json.WriteNumber("durationNanos", profile.DurationNanos);
        json.WriteNumber("period", profile.Period);
        json.WriteString("periodType", profile.PeriodType?.ToString() ?? "");
        json.WriteStartArray("comments");
        foreach (var comment in profile.Comments)
        {
            json.WriteStringValue(comment);
        }

        json.WriteEndArray();
    }
}
