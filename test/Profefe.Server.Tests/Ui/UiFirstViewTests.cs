using System.Diagnostics;
using System.Text.Json;
using Profefe.Testing;

namespace Profefe.Server.Tests.Ui;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class UiFirstViewRuns
{
    public const string Name = "UI first view";
}

/// <summary>
/// How fast the 1 MB CPU profile (big_cpu_01) shows on a collector that was just started, measured in the browser
/// from navigation to the flame graph drawn. Each run starts its own <c>profefe serve</c> process, so nothing is
/// compiled or cached yet; the collection runs alone so the suite's other tests do not share the CPU with it.
/// </summary>
[Collection(UiFirstViewRuns.Name)]
public sealed class UiFirstViewTests(ChromiumFixture chromium, ITestOutputHelper output) : IClassFixture<ChromiumFixture>, IAsyncDisposable
{
    private const int FreshCollectors = 3;

    /// <summary>The page's own timings (ms since navigation started) and the collector's Server-Timing for the profile view.</summary>
    private const string RenderFigures = @"() => {
        const canvas = document.querySelector('canvas.flame');
        const entry = (part) => performance.getEntriesByType('resource').find((e) => e.name.includes(part));
        const view = entry('/api/ui/profile');
        const navigation = performance.getEntriesByType('navigation')[0];
        return {
            rendered: window.profefeRendered,
            draw: canvas.flame.lastDrawMs,
            nodes: canvas.flame.graph.levels.reduce((n, l) => n + l.length, 0) / canvas.flame.graph.stride,
            page: navigation.responseEnd,
            scripts: Math.max(entry('app.js').responseEnd, entry('flame.js').responseEnd),
            viewStart: view.startTime,
            viewEnd: view.responseEnd,
            parsed: window.profefeDataAt,
            server: view.serverTiming.map((t) => t.name + ' ' + t.duration.toFixed(0) + ' ms').join(', '),
        };
    }";

    private readonly UiBrowserSession _browser = new(chromium, output);

    [Fact]
    public async Task BigProfile_FirstViewOnAFreshCollector_ReloadAndZoom_MeasuredInTheBrowser()
    {
        var cancel = TestContext.Current.CancellationToken;
        var firstViews = new List<double>();
        for (var run = 1; run <= FreshCollectors; run++)
        {
            var page = await _browser.OpenAsync(1920, 1080);
            var dataDirectory = Directory.CreateTempSubdirectory("profefe-ui-big-").FullName;
            try
            {
                using var serve = await ServeProcess.StartAsync(dataDirectory, FreePort.Next(), cancel);
                var bigId = await UploadAsync(serve.BaseAddress, cancel);

                var clock = Stopwatch.StartNew();
                await page.GotoAsync($"{serve.BaseAddress}ui/#/profile?id={bigId}");
                await _browser.WaitForFlameAsync(page);
                var wall = clock.Elapsed.TotalMilliseconds;
                var first = await page.EvaluateAsync<JsonElement>(RenderFigures);
                firstViews.Add(first.GetProperty("rendered").GetDouble());
                output.WriteLine($"big_cpu_01 first view, fresh collector process {run}: {Describe(first, wall)}");
                if (run < FreshCollectors)
                {
                    continue;
                }

                // Again, as a user opening the page on a warmed-up collector would see it.
                clock.Restart();
                await page.ReloadAsync();
                await _browser.WaitForFlameAsync(page);
                wall = clock.Elapsed.TotalMilliseconds;
                var reload = await page.EvaluateAsync<JsonElement>(RenderFigures);

                // Zoom into the widest frame two levels down, timing the click until the next frame is painted.
                var zoom = await page.EvaluateAsync<JsonElement>(@"async () => {
                    const canvas = document.querySelector('canvas.flame');
                    const flame = canvas.flame;
                    const level = flame.graph.levels[2];
                    let best = 0;
                    for (let i = 0; i < level.length; i += flame.graph.stride) { if (level[i + 1] > level[best + 1]) { best = i; } }
                    const r = flame.rectOf(flame.graph.names[level[best + 3]]);
                    const started = performance.now();
                    canvas.dispatchEvent(new MouseEvent('click', { clientX: r.x + r.width / 2, clientY: r.y + r.height / 2, bubbles: true }));
                    const drawn = performance.now() - started;
                    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
                    return { drawn, painted: performance.now() - started, draw: flame.lastDrawMs };
                }");
                output.WriteLine(
                    $"big_cpu_01 reload: {reload.GetProperty("nodes").GetDouble():F0} nodes; {Describe(reload, wall)}; " +
                    $"zoom click handled {zoom.GetProperty("drawn").GetDouble():F1} ms, painted {zoom.GetProperty("painted").GetDouble():F1} ms (draw {zoom.GetProperty("draw").GetDouble():F1} ms)");
                Assert.StartsWith("Zoomed: total › ", await page.Locator(".crumbs").First.InnerTextAsync(), StringComparison.Ordinal);
                Assert.True(await page.Locator("#top tbody tr").CountAsync() > 0);

                // The frame's callees lost detail to the node cap: the page fetches them; let that finish before the collector stops.
                await page.WaitForFunctionAsync("() => !window.profefeExpanding");
                await _browser.ScreenshotAsync(page, "profile-big-1920x1080");
            }
            finally
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }

        firstViews.Sort();
        output.WriteLine($"big_cpu_01 first view on {FreshCollectors} fresh collectors: median {firstViews[FreshCollectors / 2]:F0} ms, max {firstViews[^1]:F0} ms; load average {LoadAverage()}");
        _browser.AssertNoConsoleErrors();
    }

    public ValueTask DisposeAsync() => _browser.DisposeAsync();

    private static async Task<string> UploadAsync(Uri collector, CancellationToken cancel)
    {
        using var http = new HttpClient { BaseAddress = collector };
        using var content = new ByteArrayContent(TestData.Read("go/big_cpu_01.pb.gz"));
        using var response = await http.PostAsync("/api/0/profiles?service=big&type=cpu", content, cancel);
        var text = await response.Content.ReadAsStringAsync(cancel);
        Assert.True(response.IsSuccessStatusCode, text);
        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("body").GetProperty("id").GetString()!;
    }

    private static string Describe(JsonElement figures, double wall) =>
        $"page load to flame graph drawn {figures.GetProperty("rendered").GetDouble():F0} ms " +
        $"(page {figures.GetProperty("page").GetDouble():F0} ms, scripts {figures.GetProperty("scripts").GetDouble():F0} ms, " +
        $"profile view requested at {figures.GetProperty("viewStart").GetDouble():F0} ms, received at {figures.GetProperty("viewEnd").GetDouble():F0} ms, parsed at {figures.GetProperty("parsed").GetDouble():F0} ms " +
        $"[server: {figures.GetProperty("server").GetString()}], canvas draw {figures.GetProperty("draw").GetDouble():F1} ms, wall clock {wall:F0} ms)";

    /// <summary>The machine's 1-minute load average, for reading the timings (Linux only).</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";
}
