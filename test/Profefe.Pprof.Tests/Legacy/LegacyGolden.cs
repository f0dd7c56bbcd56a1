using System.Text.Json;
using System.Text.Json.Nodes;
using Profefe.Testing;

namespace Profefe.Pprof.Tests.Legacy;

/// <summary>
/// The expected results in test/testdata/legacy-expected: for each legacy input, Go's parse of it
/// (written by legacy-expected/gen) as JSON, and the same JSON shape made from one of our profiles.
/// </summary>
internal static class LegacyGolden
{
    public const string Folder = "legacy-expected";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Names of the expected files (without ".json"), each naming its input.</summary>
    public static TheoryData<string> Names()
    {
        var names = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(TestData.PathOf(Folder), "*.json").Order(StringComparer.Ordinal))
        {
            names.Add(Path.GetFileNameWithoutExtension(path));
        }

        return names;
    }

    public static string InputPath(string name)
    {
        var synthetic = TestData.PathOf(Path.Combine(Folder, "inputs", name));
        return File.Exists(synthetic) ? synthetic : TestData.PathOf(Path.Combine("pprof-thirdparty", "google-pprof", name));
    }

    public static JsonObject Expected(string name) =>
        JsonNode.Parse(File.ReadAllText(TestData.PathOf(Path.Combine(Folder, name + ".json"))))!.AsObject();

    public static string Format(JsonNode node) => node.ToJsonString(Indented);

    /// <summary>Our profile in the shape of the Go dump (same field names and omissions).</summary>
    public static JsonObject Dump(Profile profile)
    {
        var sampleTypes = new JsonArray();
        foreach (var type in profile.SampleTypes)
        {
            sampleTypes.Add(new JsonObject { ["type"] = type.Type, ["unit"] = type.Unit });
        }

        var samples = new JsonArray();
        foreach (var sample in profile.Samples)
        {
            var values = new JsonArray();
            foreach (var value in sample.Values)
            {
                values.Add(value);
            }

            var locations = new JsonArray();
            foreach (var location in sample.Locations)
            {
                locations.Add(location.Id);
            }

            var item = new JsonObject { ["values"] = values, ["locations"] = locations };
            if (sample.Labels is { Count: > 0 } labels)
            {
                var node = new JsonObject();
                foreach (var (key, texts) in labels.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    node[key] = new JsonArray([.. texts.Select(t => (JsonNode?)t)]);
                }

                item["labels"] = node;
            }

            if (sample.NumLabels is { Count: > 0 } numLabels)
            {
                var node = new JsonObject();
                foreach (var (key, numbers) in numLabels.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    node[key] = new JsonArray([.. numbers.Select(n => (JsonNode?)n)]);
                }

                item["numLabels"] = node;
            }

            samples.Add(item);
        }

        var locationTable = new JsonArray();
        foreach (var location in profile.Locations)
        {
            var lines = new JsonArray();
            foreach (var line in location.Lines)
            {
                lines.Add(new JsonObject { ["function"] = line.Function?.Id ?? 0, ["line"] = line.LineNumber });
            }

            locationTable.Add(new JsonObject
            {
                ["id"] = location.Id,
                ["mapping"] = location.Mapping?.Id ?? 0,
                ["address"] = location.Address,
                ["lines"] = lines,
                ["isFolded"] = location.IsFolded,
            });
        }

        var functions = new JsonArray();
        foreach (var function in profile.Functions)
        {
            functions.Add(new JsonObject
            {
                ["id"] = function.Id,
                ["name"] = function.Name,
                ["systemName"] = function.SystemName,
                ["filename"] = function.Filename,
                ["startLine"] = function.StartLine,
            });
        }

        var mappings = new JsonArray();
        foreach (var mapping in profile.Mappings)
        {
            mappings.Add(new JsonObject
            {
                ["id"] = mapping.Id,
                ["start"] = mapping.Start,
                ["limit"] = mapping.Limit,
                ["offset"] = mapping.Offset,
                ["file"] = mapping.File,
                ["buildId"] = mapping.BuildId,
                ["hasFunctions"] = mapping.HasFunctions,
                ["hasFilenames"] = mapping.HasFilenames,
                ["hasLineNumbers"] = mapping.HasLineNumbers,
                ["hasInlineFrames"] = mapping.HasInlineFrames,
            });
        }

        var comments = new JsonArray();
        foreach (var comment in profile.Comments)
        {
            comments.Add(comment);
        }

        return new JsonObject
        {
            ["sampleTypes"] = sampleTypes,
            ["defaultSampleType"] = profile.DefaultSampleType,
            ["periodType"] = profile.PeriodType is { } pt ? new JsonObject { ["type"] = pt.Type, ["unit"] = pt.Unit } : null,
            ["period"] = profile.Period,
            ["durationNanos"] = profile.DurationNanos,
            ["timeNanos"] = profile.TimeNanos,
            ["dropFrames"] = profile.DropFrames,
            ["keepFrames"] = profile.KeepFrames,
            ["comments"] = comments,
            ["samples"] = samples,
            ["locations"] = locationTable,
            ["functions"] = functions,
            ["mappings"] = mappings,
        };
    }
}
