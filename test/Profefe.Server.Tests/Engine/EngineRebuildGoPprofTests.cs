using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Server.Tests.Engine;

/// <summary>
/// Issue 13, acceptance 4: once raw retention has deleted a profile's bytes, <c>go tool pprof -raw</c> on its URL
/// prints the samples it prints for the pushed file: the engine rebuilds the profile sample by sample (and merges by
/// id include such profiles).
/// </summary>
public sealed class EngineRebuildGoPprofTests
{
    // One profile of each type the corpus has, labelled and unlabelled, with inlined frames and several mappings.
    private static readonly (string File, string Type)[] Pushed =
    [
        ("go/cpu_hash_02.pb.gz", "cpu"),
        ("go/cpu_webapp_01.pb.gz", "cpu"),
        ("go/heap_01.pb.gz", "heap"),
        ("go/allocs_01.pb.gz", "heap"),
        ("go/block_01.pb.gz", "block"),
        ("go/mutex_01.pb.gz", "mutex"),
        ("go/goroutine_01.pb.gz", "goroutine"),
        ("go/threadcreate_01.pb.gz", "threadcreate"),
    ];

    [Fact]
    public async Task GoToolPprofRaw_PrintsPushedSamples_WhenRawBytesAreGone()
    {
        ExternalDependency.RequireExecutable("go", "apt-get install golang-go");
        var cancellation = TestContext.Current.CancellationToken;
        await using var collector = await TestCollector.StartAsync(
        [
            new("Retention:Period", "00:00:00"),
            new("Retention:RawPeriod", "00:00:01"),
            new("Retention:Interval", "00:00:01"),
        ]);

        var ids = new List<(string File, string Id)>();
        foreach (var (file, type) in Pushed)
        {
            ids.Add((file, await PushAsync(collector, file, type, cancellation)));
        }

        await WaitRawGoneAsync(collector, ids.ConvertAll(static pushed => ProfileId.Parse(pushed.Id)), cancellation);

        foreach (var (file, id) in ids)
        {
            var original = Path.Combine(collector.DataDirectory, Path.GetFileName(file));
            await File.WriteAllBytesAsync(original, TestData.Read(file), cancellation);
            var pushed = await Task.Run(() => GoPprof.Run(original, "-raw"), cancellation);
            var rebuilt = await Task.Run(() => GoPprof.Run(new Uri(collector.BaseAddress, $"api/0/profiles/{id}").ToString(), "-raw"), cancellation);

            var expected = RawListing.Parse(pushed);
            var actual = RawListing.Parse(rebuilt);
            Assert.True(expected.Samples.Count > 0, $"{file}: no samples in go tool pprof -raw's listing");
            Assert.Equal(expected.Header, actual.Header);
            Assert.Equal(expected.SampleTypes, actual.SampleTypes);
            Assert.Equal(expected.Samples, actual.Samples);
        }

        // A merge by ids of profiles that only the engine holds: the samples go tool pprof merges from the pushed files.
        var (first, firstId) = ids[0];
        var (second, secondId) = ids[1];
        var firstFile = Path.Combine(collector.DataDirectory, Path.GetFileName(first));
        var secondFile = Path.Combine(collector.DataDirectory, Path.GetFileName(second));
        var merged = RawListing.Parse(await Task.Run(() => GoPprof.Run(secondFile, "-raw", firstFile), cancellation));
        var served = RawListing.Parse(await Task.Run(() => GoPprof.Run(new Uri(collector.BaseAddress, $"api/0/profiles/{firstId}+{secondId}").ToString(), "-raw"), cancellation));
        Assert.Equal(merged.SampleTypes, served.SampleTypes);
        Assert.Equal(merged.Samples, served.Samples);
    }

    private static async Task WaitRawGoneAsync(TestCollector collector, List<ProfileId> ids, CancellationToken cancellation)
    {
        var raw = collector.Services.GetRequiredService<IProfileReader>();
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            var left = 0;
            await foreach (var _ in raw.ListProfilesAsync(TenantId.Default, ids, cancellation))
            {
                left++;
            }

            if (left == 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"raw retention (RawPeriod 1 s) still had {left} of {ids.Count} profiles after a minute");
            await Task.Delay(200, cancellation);
        }
    }

    private static async Task<string> PushAsync(TestCollector collector, string file, string type, CancellationToken cancellation)
    {
        using var content = new ByteArrayContent(TestData.Read(file));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await collector.Client.PostAsync($"api/0/profiles?service=rebuild&type={type}&labels=file={Path.GetFileNameWithoutExtension(file)}", content, cancellation);
        Assert.Equal(200, (int)response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellation));
        return json.RootElement.GetProperty("body").GetProperty("id").GetString()!;
    }

    /// <summary>
    /// <c>go tool pprof -raw</c>'s listing with location and mapping ids resolved: each sample is its values, its
    /// labels and its stack spelled out (address, mapping file, and every inlined function with file and line),
    /// sorted, so that two files holding the same samples compare equal whatever their table order.
    /// </summary>
    private sealed record RawListing(IReadOnlyList<string> Header, string SampleTypes, IReadOnlyList<string> Samples)
    {
        public static RawListing Parse(string text)
        {
            var lines = text.Split('\n');
            var header = new List<string>();
            var i = 0;
            for (; i < lines.Length && lines[i] != "Samples:"; i++)
            {
                if (lines[i].Length > 0)
                {
                    header.Add(lines[i]);
                }
            }

            var sampleTypes = lines[++i];
            var samples = new List<(string Values, List<string> Locations, List<string> Labels)>();
            for (i++; i < lines.Length && lines[i] != "Locations"; i++)
            {
                var line = lines[i];
                var colon = line.IndexOf(": ", StringComparison.Ordinal);
                if (line.Trim().Length == 0)
                {
                    continue;
                }

                if (colon > 0 && !line.Contains(":[", StringComparison.Ordinal))
                {
                    samples.Add((line[..colon].Trim(), [.. line[(colon + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)], []));
                }
                else
                {
                    samples[^1].Labels.Add(line.Trim());
                }
            }

            var locations = new Dictionary<string, StringBuilder>(StringComparer.Ordinal);
            var mappings = new Dictionary<string, string>(StringComparer.Ordinal);
            StringBuilder? current = null;
            for (i++; i < lines.Length && lines[i] != "Mappings"; i++)
            {
                var line = lines[i];
                var trimmed = line.TrimStart();
                var colon = trimmed.IndexOf(": ", StringComparison.Ordinal);
                if (colon > 0 && int.TryParse(trimmed.AsSpan(0, colon), out _))
                {
                    current = new StringBuilder(trimmed[(colon + 2)..]);
                    locations[trimmed[..colon]] = current;
                }
                else if (trimmed.Length > 0)
                {
                    current!.Append(" | ").Append(trimmed);
                }
            }

            for (i++; i < lines.Length; i++)
            {
                var trimmed = lines[i].Trim();
                var colon = trimmed.IndexOf(": ", StringComparison.Ordinal);
                if (colon > 0)
                {
                    mappings["M=" + trimmed[..colon]] = trimmed[(colon + 2)..];
                }
            }

            string Spell(string locationId)
            {
                var location = locations[locationId].ToString();
                foreach (var (id, mapping) in mappings)
                {
                    location = location.Replace(id + " ", "[" + mapping + "] ", StringComparison.Ordinal);
                }

                return location;
            }

            var spelled = samples
                .Select(sample => $"{sample.Values} :: {string.Join(" <- ", sample.Locations.Select(Spell))} :: {string.Join(", ", sample.Labels.Order(StringComparer.Ordinal))}")
                .Order(StringComparer.Ordinal)
                .ToList();
            return new RawListing(header, sampleTypes, spelled);
        }

        public bool Equals(RawListing? other) =>
            other is not null && Header.SequenceEqual(other.Header) && SampleTypes == other.SampleTypes && Samples.SequenceEqual(other.Samples);

        public override int GetHashCode() => HashCode.Combine(Header.Count, SampleTypes, Samples.Count);
    }
}
