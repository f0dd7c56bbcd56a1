using System.Text.Json;
using Profefe.Testing;
using Profefe.Testing.Collectors;

namespace Profefe.Server.Tests.Ui;

/// <summary>
/// A running collector (the real host, local storage in a temporary directory) filled with the Go CPU profiles
/// of the test corpus under service "corpus", big_cpu_01 under service "big", and a few heap and goroutine
/// profiles under service "mem".
/// </summary>
public sealed class UiCollectorFixture : IAsyncLifetime
{
    public static readonly string[] CorpusFiles =
    [
        "cpu_compress_01", "cpu_hash_01", "cpu_hash_02", "cpu_json_01", "cpu_json_02", "cpu_long_01", "cpu_maps_01",
        "cpu_math_01", "cpu_math_02", "cpu_mix_01", "cpu_mix_02", "cpu_mix_03", "cpu_mix_04", "cpu_regexp_01",
        "cpu_regexp_02", "cpu_short_01", "cpu_sort_01", "cpu_strings_01", "cpu_webapp_01", "cpu_webapp_02",
    ];

    private TestCollector? _collector;

    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    public HttpClient Http { get; } = new();

    /// <summary>The corpus uploads: file, id and created_at as the collector answered.</summary>
    public List<(string File, string Id, DateTime CreatedAt)> Corpus { get; } = [];

    public string BigId { get; private set; } = "";

    public DateTime BigCreatedAt { get; private set; }

    /// <summary>Heap profiles (four sample types each) of service "mem", oldest first.</summary>
    public List<(string File, string Id, DateTime CreatedAt)> Heap { get; } = [];

    /// <summary>Goroutine profiles (one count sample type) of service "mem", oldest first.</summary>
    public List<(string File, string Id, DateTime CreatedAt)> Goroutines { get; } = [];

    public async ValueTask InitializeAsync()
    {
        // The corpus was recorded long ago (its created_at comes from the profiles themselves); retention is off.
        _collector = await TestCollector.StartAsync();
        BaseAddress = _collector.BaseAddress;
        Http.BaseAddress = BaseAddress;
        foreach (var file in CorpusFiles)
        {
            var workload = file[4..^3];
            var (id, createdAt) = await PostAsync($"service=corpus&type=cpu&labels=workload={workload}", "go/" + file + ".pb.gz");
            Corpus.Add((file, id, createdAt));
        }

        Corpus.Sort(static (a, b) => a.CreatedAt.CompareTo(b.CreatedAt));
        (BigId, BigCreatedAt) = await PostAsync("service=big&type=cpu", "go/big_cpu_01.pb.gz");
        foreach (var file in new[] { "heap_01", "heap_02", "heap_03" })
        {
            var (id, createdAt) = await PostAsync("service=mem&type=heap", "go/" + file + ".pb.gz");
            Heap.Add((file, id, createdAt));
        }

        foreach (var file in new[] { "goroutine_01", "goroutine_02" })
        {
            var (id, createdAt) = await PostAsync("service=mem&type=goroutine", "go/" + file + ".pb.gz");
            Goroutines.Add((file, id, createdAt));
        }

        Heap.Sort(static (a, b) => a.CreatedAt.CompareTo(b.CreatedAt));
        Goroutines.Sort(static (a, b) => a.CreatedAt.CompareTo(b.CreatedAt));
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (_collector is not null)
        {
            await _collector.DisposeAsync();
        }
    }

    /// <summary>Pushes <paramref name="profile"/> (pprof bytes); returns the id and created_at the collector answered.</summary>
    public async Task<(string Id, DateTime CreatedAt)> PostAsync(string query, byte[] profile)
    {
        using var content = new ByteArrayContent(profile);
        using var response = await Http.PostAsync("/api/0/profiles?" + query, content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {query}: {(int)response.StatusCode} {text}");
        using var json = JsonDocument.Parse(text);
        var body = json.RootElement.GetProperty("body");
        return (body.GetProperty("id").GetString()!, body.GetProperty("created_at").GetDateTime().ToUniversalTime());
    }

    private Task<(string Id, DateTime CreatedAt)> PostAsync(string query, string file) => PostAsync(query, TestData.Read(file));
}
