using System.Text.Json;
using Profefe.Pprof;

namespace Profefe.Server.Tests.Pyroscope;

/// <summary>Reads back through profefe's own API what Pyroscope's protocols stored.</summary>
internal static class StoredProfiles
{
    public const string AllTime = "from=1970-01-01T00:00:00&to=2200-01-01T00:00:00";

    public sealed record Stored(string Id, string Type, string Service, Dictionary<string, string> Labels, DateTime CreatedAt);

    public static async Task<List<Stored>> FindAsync(HttpClient http, string service, string? type = null)
    {
        var url = $"api/0/profiles?service={Uri.EscapeDataString(service)}&{AllTime}" + (type is null ? "" : "&type=" + type);
        using var response = await http.GetAsync(url, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, text);
        using var document = JsonDocument.Parse(text);
        var result = new List<Stored>();
        foreach (var item in document.RootElement.GetProperty("body").EnumerateArray())
        {
            var labels = new Dictionary<string, string>();
            if (item.TryGetProperty("labels", out var labelArray))
            {
                foreach (var label in labelArray.EnumerateArray())
                {
                    labels[label.GetProperty("key").GetString()!] = label.GetProperty("value").GetString()!;
                }
            }

            result.Add(new Stored(
                item.GetProperty("id").GetString()!, item.GetProperty("type").GetString()!, item.GetProperty("service").GetString()!,
                labels, item.GetProperty("created_at").GetDateTime().ToUniversalTime()));
        }

        return result;
    }

    /// <summary>One stored profile (or profefe's merge of several, joined by '+').</summary>
    public static async Task<Profile> DownloadAsync(HttpClient http, string ids)
    {
        using var response = await http.GetAsync("api/0/profiles/" + ids, TestContext.Current.CancellationToken);
        var bytes = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, System.Text.Encoding.UTF8.GetString(bytes));
        return ProfileDecoder.Decode(bytes);
    }

    public static async Task AssertNothingStoredAsync(HttpClient http)
    {
        using var services = await http.GetAsync("api/0/services", TestContext.Current.CancellationToken);
        Assert.Equal(404, (int)services.StatusCode);
    }

    public static int IndexOf(Profile profile, string type, string unit) =>
        profile.SampleTypes.FindIndex(t => t.Type == type && t.Unit == unit);

    public static long Total(Profile profile, int index) => profile.Samples.Sum(s => s.Values[index]);

    /// <summary>Function-name stacks (root first, ';'-joined) and their summed values for one sample type.</summary>
    public static Dictionary<string, long> Stacks(Profile profile, int index)
    {
        var stacks = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var sample in profile.Samples)
        {
            var names = new List<string>();
            for (var i = sample.Locations.Length - 1; i >= 0; i--)
            {
                for (var j = sample.Locations[i].Lines.Length - 1; j >= 0; j--)
                {
                    names.Add(sample.Locations[i].Lines[j].Function?.Name ?? "");
                }
            }

            var key = string.Join(";", names);
            stacks[key] = stacks.GetValueOrDefault(key) + sample.Values[index];
        }

        foreach (var zero in stacks.Where(p => p.Value == 0).Select(p => p.Key).ToList())
        {
            stacks.Remove(zero);
        }

        return stacks;
    }
}
