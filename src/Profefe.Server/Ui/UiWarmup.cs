using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Profefe.Core;
using Profefe.Core.Views;
using Profefe.Pprof;

namespace Profefe.Server.Ui;

/// <summary>
/// Runs the UI's whole view path once, in the background, right after the collector starts: decode, merge, flame
/// graph (capped and not, and one frame's subtree), top table, diff, timeline totals and their JSON, over a
/// small profile made up here. The first
/// page a user opens then does not pay for compiling that code (measured: about half of the first view of a
/// 1 MB CPU profile on a fresh collector). Readiness does not wait for it, and it touches no storage.
/// </summary>
internal static class UiWarmup
{
    private const int Functions = 96;
    private const int Samples = 600;

    /// <summary>Starts the warm-up on a thread of its own; it stops early when <paramref name="stopping"/> fires.</summary>
    public static void Start(ILogger logger, CancellationToken stopping)
    {
        var thread = new Thread(() => Run(logger, stopping))
        {
            IsBackground = true,
            Name = "profefe UI warm-up",

            // Where the OS honours it, a request that arrives meanwhile goes first.
            Priority = ThreadPriority.BelowNormal,
        };
        thread.Start();
    }

    private static void Run(ILogger logger, CancellationToken stopping)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var encoded = ProfileEncoder.EncodeToArray(MakeProfile(seed: 1));
            var profile = ProfileDecoder.Decode(encoded);
            stopping.ThrowIfCancellationRequested();
            var other = ProfileDecoder.Decode(ProfileEncoder.EncodeToArray(MakeProfile(seed: 2)));
            var merged = ProfileMerger.Merge([profile, other]);
            stopping.ThrowIfCancellationRequested();

            var sampleIndex = SampleTypeIndex.Resolve(merged, null);
            var buffer = new ArrayBufferWriter<byte>();
            using var json = new Utf8JsonWriter(buffer);
            json.WriteStartObject();
            UiJson.WriteProfileSummary(json, merged, sampleIndex);
            json.WritePropertyName("flame");
            UiJson.WriteFlameGraph(json, FlameGraphBuilder.Build(merged, sampleIndex));

            // A small cap takes the path that sums what it cuts into "other" nodes.
            json.WritePropertyName("capped");
            UiJson.WriteFlameGraph(json, FlameGraphBuilder.Build(merged, sampleIndex, maxNodes: 64));
            json.WritePropertyName("top");
            UiJson.WriteTopTable(json, TopTableBuilder.Build(merged, sampleIndex));
            stopping.ThrowIfCancellationRequested();
            json.WritePropertyName("diff");
            UiJson.WriteFlameGraph(json, FlameGraphBuilder.BuildDiff(profile, sampleIndex, other, sampleIndex, maxNodes: 64));
            json.WritePropertyName("diffTop");
            UiJson.WriteTopTable(json, TopTableBuilder.BuildDiff(profile, sampleIndex, other, sampleIndex));
            json.WritePropertyName("subtree");
            UiJson.WriteFlameGraph(json, FlameGraphBuilder.BuildSubtree(merged, sampleIndex, [merged.Functions[0].Name], maxNodes: 64));
            var timeline = new TimelineBuilder();
            var now = DateTime.UtcNow;
            timeline.Add(new ProfileMeta(ProfileId.NewId(now), ProfileType.Cpu, "warmup", [], now), profile);
            if (ProfileTotals.TryRead(encoded, encoded.Length * 64L, out var totals))
            {
                timeline.AddTotals(new ProfileMeta(ProfileId.NewId(now), ProfileType.Cpu, "warmup", [], now), totals);
            }

            json.WriteNumber("points", timeline.Build().Points.Count);
            json.WriteEndObject();
            json.Flush();
            var elapsed = Stopwatch.GetElapsedTime(started);
            Log.UiWarmedUp(logger, elapsed.TotalMilliseconds);
        }
#pragma warning disable CA1031 // A failed warm-up only makes the first page slower; the collector must keep running.
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            // Stopping: whatever failed, the collector is going away (and its logging with it).
        }
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.UiWarmupFailed(logger, e);
        }
    }

    /// <summary>A CPU profile with stacks up to 40 deep over a few dozen functions, some inlined, as Go writes them.</summary>
    private static Profile MakeProfile(int seed)
    {
        var random = new Random(seed);
        var profile = new Profile
        {
            PeriodType = new SampleType("cpu", "nanoseconds"),
            Period = 10_000_000,
            TimeNanos = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000,
            DurationNanos = 10_000_000_000,
        };
        profile.SampleTypes.Add(new SampleType("samples", "count"));
        profile.SampleTypes.Add(new SampleType("cpu", "nanoseconds"));
        var mapping = new Mapping { Id = 1, Start = 0x400000, Limit = 0x800000, File = "/usr/local/bin/app", HasFunctions = true, HasFilenames = true, HasLineNumbers = true };
        profile.Mappings.Add(mapping);
        for (var i = 0; i < Functions; i++)
        {
            profile.Functions.Add(new Function { Id = (ulong)i + 1, Name = "app.Function" + i, SystemName = "app.Function" + i, Filename = "/src/app/file" + (i % 7) + ".go", StartLine = i * 10 });
        }

        for (var i = 0; i < Functions; i++)
        {
            // Every fifth location has its callee inlined into it.
            Line[] lines = i % 5 == 0
                ? [new Line(profile.Functions[(i + 1) % Functions], 12), new Line(profile.Functions[i], (i * 10) + 3)]
                : [new Line(profile.Functions[i], (i * 10) + 3)];
            profile.Locations.Add(new Location { Id = (ulong)i + 1, Mapping = mapping, Address = 0x400000 + ((ulong)i * 64), Lines = lines });
        }

        for (var i = 0; i < Samples; i++)
        {
            var depth = random.Next(1, 40);
            var locations = new Location[depth];
            for (var d = 0; d < depth; d++)
            {
                // Few roots and skewed choices give shared prefixes, like real stacks.
                locations[depth - 1 - d] = profile.Locations[d < 3 ? d : Math.Min(random.Next(Functions), random.Next(Functions))];
            }

            var count = random.Next(1, 5);
            profile.Samples.Add(new Sample { Locations = locations, Values = [count, count * profile.Period] });
        }

        return profile;
    }
}
