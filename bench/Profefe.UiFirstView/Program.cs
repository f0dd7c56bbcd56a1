using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using Profefe.Testing;
using Profefe.Testing.Browsers;
using Profefe.Testing.Servers;

// How fast the 1 MB CPU profile (big_cpu_01) shows on a collector that was just started, measured in the browser
// from navigation to the flame graph drawn; then a reload and a zoom click on the last, warmed-up collector.
// Usage: dotnet run -c Release --project bench/Profefe.UiFirstView [-- --runs N]
// The page's own timings (ms since navigation started) and the collector's Server-Timing for the profile view.
const string RenderFigures = @"() => {
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

// Zoom into the widest frame two levels down, timing the click until the next frame is painted.
const string ZoomFigures = @"async () => {
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
}";

var runs = args is ["--runs", var n] ? int.Parse(n, CultureInfo.InvariantCulture) : 3;
if (SystemChromium.UnavailableReason is { } unavailable)
{
    Console.Error.WriteLine(unavailable);
    return 1;
}

var profile = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "testdata", "big_cpu_01.pb.gz"));
using var playwright = await Playwright.CreateAsync();
await using var browser = await SystemChromium.LaunchAsync(playwright);

var consoleErrors = new List<string>();
var firstViews = new List<double>();
for (var run = 1; run <= runs; run++)
{
    await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1920, Height = 1080 } });
    var page = await context.NewPageAsync();
    page.Console += (_, message) =>
    {
        if (message.Type == "error")
        {
            consoleErrors.Add(message.Text);
        }
    };
    page.PageError += (_, error) => consoleErrors.Add(error);

    var dataDirectory = Directory.CreateTempSubdirectory("profefe-ui-first-view-").FullName;
    try
    {
        using var serve = await ServeProcess.StartAsync(dataDirectory, FreePort.Next(), CancellationToken.None);
        var id = await UploadAsync(serve.BaseAddress, profile);
        var clock = Stopwatch.StartNew();
        await page.GotoAsync($"{serve.BaseAddress}ui/#/profile?id={id}");
        await WaitForFlameAsync(page);
        var wall = clock.Elapsed.TotalMilliseconds;
        var first = await page.EvaluateAsync<JsonElement>(RenderFigures);
        firstViews.Add(first.GetProperty("rendered").GetDouble());
        Console.WriteLine($"big_cpu_01 first view, fresh collector process {run}: {Describe(first, wall)}");
        if (run < runs)
        {
            continue;
        }

        // Again, as a user opening the page on a warmed-up collector would see it.
        clock.Restart();
        await page.ReloadAsync();
        await WaitForFlameAsync(page);
        wall = clock.Elapsed.TotalMilliseconds;
        var reload = await page.EvaluateAsync<JsonElement>(RenderFigures);
        var zoom = await page.EvaluateAsync<JsonElement>(ZoomFigures);
        Console.WriteLine(
            $"big_cpu_01 reload: {reload.GetProperty("nodes").GetDouble():F0} nodes; {Describe(reload, wall)}; " +
            $"zoom click handled {zoom.GetProperty("drawn").GetDouble():F1} ms, painted {zoom.GetProperty("painted").GetDouble():F1} ms (draw {zoom.GetProperty("draw").GetDouble():F1} ms)");
        var crumbs = await page.Locator(".crumbs").First.InnerTextAsync();
        if (!crumbs.StartsWith("Zoomed: total › ", StringComparison.Ordinal) || await page.Locator("#top tbody tr").CountAsync() == 0)
        {
            Console.Error.WriteLine($"the zoom did not take: crumbs \"{crumbs}\"");
            return 1;
        }

        // The frame's callees lost detail to the node cap: the page fetches them; let that finish before the collector stops.
        await page.WaitForFunctionAsync("() => !window.profefeExpanding");
    }
    finally
    {
        Directory.Delete(dataDirectory, recursive: true);
    }
}

firstViews.Sort();
Console.WriteLine($"big_cpu_01 first view on {runs} fresh collectors: median {firstViews[runs / 2]:F0} ms, max {firstViews[^1]:F0} ms; load average {LoadAverage()}");
if (consoleErrors.Count > 0)
{
    Console.Error.WriteLine($"console errors: {string.Join("; ", consoleErrors)}");
    return 1;
}

return 0;

static async Task<string> UploadAsync(Uri collector, byte[] profile)
{
    using var http = new HttpClient { BaseAddress = collector };
    using var content = new ByteArrayContent(profile);
    using var response = await http.PostAsync("/api/0/profiles?service=big&type=cpu", content);
    var text = await response.Content.ReadAsStringAsync();
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"upload answered {(int)response.StatusCode}: {text}");
    }

    using var json = JsonDocument.Parse(text);
    return json.RootElement.GetProperty("body").GetProperty("id").GetString()!;
}

static Task WaitForFlameAsync(IPage page) =>
    page.WaitForFunctionAsync("() => window.profefeRendered && document.querySelector('#top tbody tr')", null, new PageWaitForFunctionOptions { Timeout = 60_000 });

static string Describe(JsonElement figures, double wall) =>
    $"page load to flame graph drawn {figures.GetProperty("rendered").GetDouble():F0} ms " +
    $"(page {figures.GetProperty("page").GetDouble():F0} ms, scripts {figures.GetProperty("scripts").GetDouble():F0} ms, " +
    $"profile view requested at {figures.GetProperty("viewStart").GetDouble():F0} ms, received at {figures.GetProperty("viewEnd").GetDouble():F0} ms, parsed at {figures.GetProperty("parsed").GetDouble():F0} ms " +
    $"[server: {figures.GetProperty("server").GetString()}], canvas draw {figures.GetProperty("draw").GetDouble():F1} ms, wall clock {wall:F0} ms)";

// The machine's 1-minute load average, for reading the timings (Linux only).
static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";
