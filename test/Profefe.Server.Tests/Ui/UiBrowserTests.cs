using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using Profefe.Core.Views;
using Profefe.Testing;

namespace Profefe.Server.Tests.Ui;

/// <summary>
/// The web UI end to end: headless Chromium against a running collector filled with the corpus. Assertions are
/// on what the page shows (frame names, percentages); screenshots go to TestResults/ui/.
/// </summary>
public sealed class UiBrowserTests(UiCollectorFixture collector, ChromiumFixture chromium, ITestOutputHelper output)
    : IClassFixture<UiCollectorFixture>, IClassFixture<ChromiumFixture>, IAsyncDisposable
{
    private static readonly string ScreenshotDirectory = Path.Combine(TestData.RepoRoot, "TestResults", "ui");

    private readonly List<string> _consoleErrors = [];
    private readonly List<IBrowserContext> _contexts = [];

    private string CorpusRange => $"from={UiExpectations.Time(collector.Corpus[0].CreatedAt)}&to={UiExpectations.Time(collector.Corpus[^1].CreatedAt.AddSeconds(1))}";

    [Fact]
    public async Task Explore_ShowsTheCorpusOnTheTimeline_AndBrushingNarrowsTheRange()
    {
        var page = await OpenAsync(1280, 800);
        await page.GotoAsync($"{collector.BaseAddress}ui/#/explore?service=corpus&type=cpu&{CorpusRange}");

        var rows = page.Locator("#profiles tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(collector.Corpus.Count);
        var summary = await page.Locator("#timeline-summary").InnerTextAsync();
        Assert.StartsWith($"{collector.Corpus.Count} profiles, cpu total ", summary, StringComparison.Ordinal);
        Assert.Equal(collector.Corpus.Count, await page.Locator("svg.timeline rect.bar").CountAsync());
        Assert.Equal("corpus", await page.Locator("#service").InputValueAsync());
        await ScreenshotAsync(page, "explore-1280x800");

        // Drag across the left half of the timeline: the range narrows to the profiles under it.
        var box = (await page.Locator("svg.timeline").BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + 2, box.Y + (box.Height / 2));
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(box.X + (box.Width / 2), box.Y + (box.Height / 2), new MouseMoveOptions { Steps = 5 });
        await page.Mouse.UpAsync();
        await page.WaitForFunctionAsync(
            $"() => {{ const n = document.querySelectorAll('#profiles tbody tr').length; const s = document.querySelector('#timeline-summary'); return n > 0 && n < {collector.Corpus.Count} && s && s.textContent.startsWith(n + ' profiles'); }}");

        var hash = new Uri(page.Url).Fragment;
        var query = System.Web.HttpUtility.ParseQueryString(hash[(hash.IndexOf('?', StringComparison.Ordinal) + 1)..]);
        var from = DateTime.Parse(query["from"]!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        var to = DateTime.Parse(query["to"]!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        var shown = await rows.CountAsync();
        var inRange = collector.Corpus.Count(p => p.CreatedAt >= from && p.CreatedAt <= to);
        Assert.InRange(shown, Math.Max(1, inRange - 1), inRange + 1);
        Assert.StartsWith($"{shown} profiles", await page.Locator("#timeline-summary").InnerTextAsync(), StringComparison.Ordinal);

        // A label filter keeps only the matching profiles and shows as a removable chip.
        await page.GotoAsync($"{collector.BaseAddress}ui/#/explore?service=corpus&type=cpu&{CorpusRange}&labels=workload=mix");
        await Assertions.Expect(rows).ToHaveCountAsync(collector.Corpus.Count(p => p.File.StartsWith("cpu_mix_", StringComparison.Ordinal)));
        Assert.Equal("workload=mix", (await page.Locator(".chip").InnerTextAsync()).TrimEnd('×').Trim());
        Assert.All(await rows.Locator("td:nth-child(5)").AllInnerTextsAsync(), labels => Assert.Equal("workload=mix", labels));
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Profile_MergedCorpus_ShowsTopFunctions_ZoomsSearchesSortsAndReloads()
    {
        var merged = UiExpectations.Merge(UiCollectorFixture.CorpusFiles);
        var index = SampleTypeIndex.Resolve(merged, null);
        var top = TopTableBuilder.Build(merged, index);
        var graph = FlameGraphBuilder.Build(merged, index);
        Assert.False(graph.Truncated);

        var page = await OpenAsync(1920, 1080);
        await page.GotoAsync($"{collector.BaseAddress}ui/#/explore?service=corpus&type=cpu&{CorpusRange}");
        await page.Locator("#open-merged").ClickAsync();
        await WaitForFlameAsync(page);

        Assert.Equal($"corpus · cpu · {collector.Corpus.Count} profiles merged", await page.Locator("#profile-title").InnerTextAsync());
        var first = page.Locator("#top tbody tr").First;
        Assert.Equal(top.Rows[0].Name, await first.GetAttributeAsync("data-name"));
        Assert.Equal(UiExpectations.Percent(top.Rows[0].Flat, top.Total), await first.Locator("td").Nth(1).InnerTextAsync());
        Assert.Equal(UiExpectations.Percent(top.Rows[0].Cum, top.Total), await first.Locator("td").Nth(3).InnerTextAsync());

        // Zoom into the widest frame under the root by clicking where it is drawn.
        var (zoomName, zoomTotal) = UiExpectations.WidestTopFrame(graph);
        await ClickFrameAsync(page, zoomName);
        var crumbs = await page.Locator(".crumbs").First.InnerTextAsync();
        Assert.StartsWith($"Zoomed: total › {zoomName} — ", crumbs, StringComparison.Ordinal);
        Assert.EndsWith($"({UiExpectations.Percent(zoomTotal, graph.Total)})", crumbs, StringComparison.Ordinal);

        // Search for the hottest function: its share counts each sample once, however often it matches.
        var term = top.Rows[0].Name;
        await page.Locator("input[type=search][aria-label^='Search frames']").FillAsync(term);
        var matched = UiExpectations.MatchingValue(merged, index, term);
        var result = await page.Locator(".search-result").First.InnerTextAsync();
        Assert.EndsWith($"({UiExpectations.Percent(matched, graph.Total)} of total)", result, StringComparison.Ordinal);
        await ScreenshotAsync(page, "profile-merged-1920x1080");

        // Sort by cum, descending then ascending.
        var cumHeader = page.Locator("#top th[data-key=cum]");
        await cumHeader.Locator("button").ClickAsync();
        Assert.Equal("descending", await cumHeader.GetAttributeAsync("aria-sort"));
        var maxCum = top.Rows.Max(r => r.Cum);
        Assert.Equal(UiExpectations.Percent(maxCum, top.Total), await page.Locator("#top tbody tr").First.Locator("td").Nth(3).InnerTextAsync());
        await cumHeader.Locator("button").ClickAsync();
        Assert.Equal("ascending", await cumHeader.GetAttributeAsync("aria-sort"));
        var minCum = top.Rows.Min(r => r.Cum);
        Assert.Equal(UiExpectations.Percent(minCum, top.Total), await page.Locator("#top tbody tr").First.Locator("td").Nth(3).InnerTextAsync());

        // Filter the table by name.
        await page.Locator("input[aria-label='Filter functions']").FillAsync("runtime.");
        var names = await page.Locator("#top tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.name)");
        Assert.NotEmpty(names);
        Assert.All(names, name => Assert.Contains("runtime.", name, StringComparison.OrdinalIgnoreCase));
        var runtimeRows = top.Rows.Count(r => r.Name.Contains("runtime.", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(Math.Min(runtimeRows, 300), names.Length);
        Assert.StartsWith($"{runtimeRows} of {top.Rows.Count} functions", await page.Locator(".table-caption").InnerTextAsync(), StringComparison.Ordinal);

        // The URL keeps zoom, search, sort and filter: a reload shows the same view.
        await page.ReloadAsync();
        await WaitForFlameAsync(page);
        Assert.Equal(crumbs, await page.Locator(".crumbs").First.InnerTextAsync());
        Assert.Equal(result, await page.Locator(".search-result").First.InnerTextAsync());
        Assert.Equal("ascending", await page.Locator("#top th[data-key=cum]").GetAttributeAsync("aria-sort"));
        Assert.Equal("runtime.", await page.Locator("input[aria-label='Filter functions']").InputValueAsync());

        await page.SetViewportSizeAsync(1280, 800);
        await page.Locator("button", new() { HasText = "Reset zoom" }).ClickAsync();
        Assert.Equal("Click a frame to zoom in.", await page.Locator(".crumbs").First.InnerTextAsync());
        await ScreenshotAsync(page, "profile-merged-1280x800");
        Assert.Contains("/api/0/profiles/merge?service=corpus&type=cpu", await page.Locator("#pprof-command").InnerTextAsync(), StringComparison.Ordinal);
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Compare_TwoRanges_ShowsTheChangeAndTheFunctionsThatChangedMost()
    {
        // The corpus was taken a few seconds apart: the first half is the base, the second half the new side.
        var split = collector.Corpus.Count / 2;
        var baseTo = collector.Corpus[split - 1].CreatedAt.AddSeconds(1);
        var newFrom = collector.Corpus[split].CreatedAt;
        Assert.True(newFrom > baseTo, "the corpus halves must not share a second");
        var baseProfile = UiExpectations.Merge(collector.Corpus.Take(split).Select(p => p.File));
        var newProfile = UiExpectations.Merge(collector.Corpus.Skip(split).Select(p => p.File));
        var diff = TopTableBuilder.BuildDiff(baseProfile, 1, newProfile, 1);
        var baseTotal = diff.BaseTotal!.Value;
        var change = diff.Total - baseTotal;

        var page = await OpenAsync(1920, 1080);
        await page.GotoAsync($"{collector.BaseAddress}ui/#/compare?service=corpus&type=cpu"
            + $"&base_from={UiExpectations.Time(collector.Corpus[0].CreatedAt)}&base_to={UiExpectations.Time(baseTo)}"
            + $"&new_from={UiExpectations.Time(newFrom)}&new_to={UiExpectations.Time(collector.Corpus[^1].CreatedAt.AddSeconds(1))}");
        await page.Locator("#diff-top tbody tr").First.WaitForAsync();
        await page.WaitForFunctionAsync("() => document.querySelectorAll('canvas.flame').length === 3 && window.profefeRendered");

        var summary = await page.Locator("#compare-summary").InnerTextAsync();
        Assert.StartsWith($"Base: {split} profiles, ", summary, StringComparison.Ordinal);
        Assert.Contains($"New: {collector.Corpus.Count - split} profiles, ", summary, StringComparison.Ordinal);
        Assert.EndsWith($"({(change > 0 ? "+" : "")}{UiExpectations.Percent(change, baseTotal)} of base)", summary, StringComparison.Ordinal);

        var maxChange = diff.Rows.Max(r => Math.Abs(r.Flat - r.BaseFlat));
        var biggest = diff.Rows.Where(r => Math.Abs(r.Flat - r.BaseFlat) == maxChange).Select(r => r.Name).ToList();
        var firstRow = page.Locator("#diff-top tbody tr").First;
        var firstName = await firstRow.GetAttributeAsync("data-name");
        Assert.Contains(firstName, biggest);
        var row = diff.Rows.Single(r => r.Name == firstName);
        var delta = row.Flat - row.BaseFlat;
        Assert.Equal((delta > 0 ? "+" : "") + UiExpectations.Percent(delta, baseTotal), await firstRow.Locator("td").Nth(4).InnerTextAsync());

        // The diff flame graph zooms like the others.
        var diffGraph = FlameGraphBuilder.BuildDiff(baseProfile, 1, newProfile, 1);
        var (name, _) = UiExpectations.WidestTopFrame(diffGraph);
        var box = await page.EvaluateAsync<JsonElement>(
            "name => { const c = document.querySelectorAll('canvas.flame')[2]; c.scrollIntoView({ block: 'start' }); const r = c.flame.rectOf(name); return [r.x + r.width / 2, r.y + r.height / 2]; }", name);
        await page.Mouse.ClickAsync(box[0].GetSingle(), box[1].GetSingle());
        Assert.StartsWith($"Zoomed: total › {name} — ", await page.Locator(".crumbs").Nth(2).InnerTextAsync(), StringComparison.Ordinal);
        await ScreenshotAsync(page, "compare-1920x1080");
        Assert.Contains("-diff_base=", await page.Locator("#pprof-command").InnerTextAsync(), StringComparison.Ordinal);
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task BigProfile_RendersAndZooms_MeasuredInTheBrowser()
    {
        var page = await OpenAsync(1920, 1080);
        var clock = Stopwatch.StartNew();
        await page.GotoAsync($"{collector.BaseAddress}ui/#/profile?id={collector.BigId}");
        await WaitForFlameAsync(page);
        var wall = clock.Elapsed.TotalMilliseconds;
        const string Figures = "() => ({ rendered: window.profefeRendered, fetch: window.profefeFetchMs, draw: document.querySelector('canvas.flame').flame.lastDrawMs, nodes: document.querySelector('canvas.flame').flame.graph.levels.reduce((n, l) => n + l.length, 0) / document.querySelector('canvas.flame').flame.graph.stride })";
        var cold = await page.EvaluateAsync<JsonElement>(Figures);
        output.WriteLine(
            $"big_cpu_01 first view (cold collector): page load to flame graph drawn {cold.GetProperty("rendered").GetDouble():F0} ms " +
            $"(profile view fetch {cold.GetProperty("fetch").GetDouble():F0} ms, canvas draw {cold.GetProperty("draw").GetDouble():F1} ms, wall clock {wall:F0} ms)");

        // Again, as a user opening the page on a warmed-up collector would see it.
        clock.Restart();
        await page.ReloadAsync();
        await WaitForFlameAsync(page);
        wall = clock.Elapsed.TotalMilliseconds;
        var figures = await page.EvaluateAsync<JsonElement>(Figures);

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
            $"big_cpu_01 reload: {figures.GetProperty("nodes").GetDouble():F0} nodes; page load to flame graph drawn {figures.GetProperty("rendered").GetDouble():F0} ms " +
            $"(profile view fetch {figures.GetProperty("fetch").GetDouble():F0} ms, canvas draw {figures.GetProperty("draw").GetDouble():F1} ms, wall clock {wall:F0} ms); " +
            $"zoom click handled {zoom.GetProperty("drawn").GetDouble():F1} ms, painted {zoom.GetProperty("painted").GetDouble():F1} ms (draw {zoom.GetProperty("draw").GetDouble():F1} ms)");
        Assert.StartsWith("Zoomed: total › ", await page.Locator(".crumbs").First.InnerTextAsync(), StringComparison.Ordinal);
        Assert.True(await page.Locator("#top tbody tr").CountAsync() > 0);
        await ScreenshotAsync(page, "profile-big-1920x1080");
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Keyboard_ReachesTheFlameGraph_AndZoomsWithEnter()
    {
        var page = await OpenAsync(1280, 800);
        await page.GotoAsync($"{collector.BaseAddress}ui/#/profile?id={collector.Corpus[0].Id}");
        await WaitForFlameAsync(page);

        var reached = false;
        for (var i = 0; i < 40 && !reached; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            reached = await page.EvaluateAsync<bool>("() => document.activeElement && document.activeElement.matches('canvas.flame')");
        }

        Assert.True(reached, "Tab never reached the flame graph");
        Assert.StartsWith("total · total ", await page.Locator(".selected-frame").First.InnerTextAsync(), StringComparison.Ordinal);
        await page.Keyboard.PressAsync("ArrowDown");
        await page.Keyboard.PressAsync("Enter");
        Assert.StartsWith("Zoomed: total › ", await page.Locator(".crumbs").First.InnerTextAsync(), StringComparison.Ordinal);
        await ScreenshotAsync(page, "keyboard-zoom-1280x800");
        await page.Keyboard.PressAsync("Escape");
        Assert.Equal("Click a frame to zoom in.", await page.Locator(".crumbs").First.InnerTextAsync());
        AssertNoConsoleErrors();
    }

    private async Task<IPage> OpenAsync(int width, int height)
    {
        if (chromium.Browser is null)
        {
            ExternalDependency.Unavailable(chromium.UnavailableReason ?? "chromium is not available");
        }

        var context = await chromium.Browser!.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        _contexts.Add(context);
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                _consoleErrors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => _consoleErrors.Add(error);
        return page;
    }

    private async Task WaitForFlameAsync(IPage page)
    {
        try
        {
            await page.WaitForFunctionAsync("() => window.profefeRendered && document.querySelector('#top tbody tr')", null, new PageWaitForFunctionOptions { Timeout = 60_000 });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the flame graph was not drawn; console errors: [{string.Join("; ", _consoleErrors)}]; page: {await page.Locator("main").InnerTextAsync()}");
        }
    }

    private static async Task ClickFrameAsync(IPage page, string name)
    {
        var center = await page.EvaluateAsync<JsonElement>(
            "name => { const c = document.querySelector('canvas.flame'); c.scrollIntoView({ block: 'start' }); const r = c.flame.rectOf(name); return [r.x + r.width / 2, r.y + r.height / 2]; }", name);
        await page.Mouse.ClickAsync(center[0].GetSingle(), center[1].GetSingle());
    }

    private async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var path = Path.Combine(ScreenshotDirectory, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine("screenshot: " + path);
    }

    private void AssertNoConsoleErrors() => Assert.Empty(_consoleErrors);

    public async ValueTask DisposeAsync()
    {
        foreach (var context in _contexts)
        {
            await context.DisposeAsync();
        }
    }
}
