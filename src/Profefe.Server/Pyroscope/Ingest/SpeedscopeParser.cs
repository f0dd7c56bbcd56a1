using System.Text.Json;
using Profefe.Core.Ingest;

namespace Profefe.Server.Pyroscope.Ingest;

/// <summary>
/// Speedscope's file format (https://www.speedscope.app/file-format-schema.json): shared frames and sampled
/// (stacks root first, with weights) or evented (open/close) profiles. Profiles of the same unit are summed
/// into one stored profile; times are turned into nanoseconds.
/// </summary>
internal static class SpeedscopeParser
{
    private const string Schema = "https://www.speedscope.app/file-format-schema.json";

    /// <summary>One unit's stacks; <see cref="Nanoseconds"/> when the values are times, else counts or bytes.</summary>
    public sealed record Part(string Unit, StackProfileBuilder Stacks)
    {
        public bool Nanoseconds => Unit is "nanoseconds" or "microseconds" or "milliseconds" or "seconds";
    }

    /// <exception cref="ProfileRequestException">422 saying what in the file is wrong.</exception>
    public static IReadOnlyList<Part> Parse(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("$schema", out var schema) || schema.GetString() != Schema)
            {
                throw Unprocessable($"not a speedscope file: \"$schema\" must be \"{Schema}\"");
            }

            var frames = new List<string>();
            if (root.TryGetProperty("shared", out var shared) && shared.TryGetProperty("frames", out var frameArray))
            {
                foreach (var frame in frameArray.EnumerateArray())
                {
                    frames.Add(frame.GetProperty("name").GetString() ?? "");
                }
            }

            var parts = new Dictionary<string, Part>(StringComparer.Ordinal);
            if (!root.TryGetProperty("profiles", out var profiles) || profiles.ValueKind != JsonValueKind.Array)
            {
                throw Unprocessable("speedscope file without \"profiles\"");
            }

            foreach (var profile in profiles.EnumerateArray())
            {
                var unit = profile.TryGetProperty("unit", out var u) ? u.GetString() ?? "none" : "none";
                var scale = unit switch
                {
                    "nanoseconds" or "none" or "bytes" => 1d,
                    "microseconds" => 1e3,
                    "milliseconds" => 1e6,
                    "seconds" => 1e9,
                    _ => throw Unprocessable($"speedscope profile with unknown unit \"{unit}\""),
                };
                if (!parts.TryGetValue(unit, out var part))
                {
                    part = new Part(unit, new StackProfileBuilder());
                    parts.Add(unit, part);
                }

                var type = profile.GetProperty("type").GetString();
                switch (type)
                {
                    case "sampled":
                        AddSampled(profile, frames, scale, part.Stacks);
                        break;
                    case "evented":
                        AddEvented(profile, frames, scale, part.Stacks);
                        break;
                    default:
                        throw Unprocessable($"speedscope profile type \"{type}\" is neither sampled nor evented");
                }
            }

            return [.. parts.Values];
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw Unprocessable($"malformed speedscope file: {e.Message}");
        }
    }

    private static void AddSampled(JsonElement profile, List<string> frames, double scale, StackProfileBuilder stacks)
    {
        var samples = profile.GetProperty("samples");
        var weights = profile.TryGetProperty("weights", out var w) ? w : default;
        var index = 0;
        var names = new List<string>();
        foreach (var sample in samples.EnumerateArray())
        {
            names.Clear();
            foreach (var frame in sample.EnumerateArray())
            {
                names.Add(FrameName(frames, frame.GetInt32()));
            }

            var weight = weights.ValueKind == JsonValueKind.Array ? weights[index].GetDouble() : 1d;
            stacks.Add(names, (long)Math.Round(weight * scale));
            index++;
        }
    }

    private static void AddEvented(JsonElement profile, List<string> frames, double scale, StackProfileBuilder stacks)
    {
        var open = new List<int>();
        var names = new List<string>();
        double? last = profile.TryGetProperty("startValue", out var start) ? start.GetDouble() : null;
        foreach (var e in profile.GetProperty("events").EnumerateArray())
        {
            var at = e.GetProperty("at").GetDouble();
            var frame = e.GetProperty("frame").GetInt32();
            var name = FrameName(frames, frame);
            if (last is { } previous)
            {
                if (at < previous)
                {
                    throw Unprocessable($"speedscope events out of order: {at} after {previous}");
                }

                if (names.Count > 0)
                {
                    // The time since the last event belongs to the stack open until now.
                    stacks.Add(names, (long)Math.Round((at - previous) * scale));
                }
            }

            switch (e.GetProperty("type").GetString())
            {
                case "O":
                    open.Add(frame);
                    names.Add(name);
                    break;
                case "C":
                    if (open.Count == 0 || open[^1] != frame)
                    {
                        throw Unprocessable($"speedscope event closes frame {frame}, which is not the innermost open frame");
                    }

                    open.RemoveAt(open.Count - 1);
                    names.RemoveAt(names.Count - 1);
                    break;
                default:
                    throw Unprocessable("speedscope event type must be \"O\" or \"C\"");
            }

            last = at;
        }
    }

    private static string FrameName(List<string> frames, int index) =>
        index >= 0 && index < frames.Count ? frames[index] : throw Unprocessable($"speedscope frame index {index} is outside shared.frames");

    private static ProfileRequestException Unprocessable(string message) => new(422, message);
}
