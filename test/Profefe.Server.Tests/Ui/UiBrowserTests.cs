using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using Profefe.Core.Views;
using Profefe.Pprof;
using Profefe.Testing;

namespace Profefe.Server.Tests.Ui;

/// <summary>
/// The web UI end to end: headless Chromium against a running collector filled with the corpus. Assertions are
/// on what the page shows (frame names, percentages); screenshots go to TestResults/ui/.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Browser)]
public sealed class UiBrowserTests(UiCollectorFixture collector, ChromiumFixture chromium, ITestOutputHelper output)
    : IClassFixture<UiCollectorFixture>, IClassFixture<ChromiumFixture>, IAsyncDisposable
{
    private readonly UiBrowserSession _browser = new(chromium, output);

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
        // The timeline is the engine's time series: one line for the whole service when not grouped.
        Assert.Equal(1, await page.Locator("svg.timeline path.series-line").CountAsync());
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
    public async Task CompareSelected_TakesTheOlderProfileAsBase_WhicheverIsTickedFirst()
    {
        var (older, newer) = (collector.Corpus[3], collector.Corpus[7]);
        var page = await OpenAsync(1280, 800);
        await page.GotoAsync($"{collector.BaseAddress}ui/#/explore?service=corpus&type=cpu&{CorpusRange}");
        await Assertions.Expect(page.Locator("#profiles tbody tr")).ToHaveCountAsync(collector.Corpus.Count);

        // The newer one first, as a user scanning the newest-first list would.
        await page.Locator($"input[value='{newer.Id}']").CheckAsync();
        await page.Locator($"input[value='{older.Id}']").CheckAsync();
        await page.Locator("button", new() { HasText = "Compare selected" }).ClickAsync();
        await page.Locator("#compare-summary").WaitForAsync();

        Assert.Contains($"base_id={older.Id}&new_id={newer.Id}", page.Url, StringComparison.Ordinal);
        Assert.StartsWith($"Base: {older.Id} — ", await page.Locator("#compare-summary").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains($"New: {newer.Id} — ", await page.Locator("#compare-summary").InnerTextAsync(), StringComparison.Ordinal);
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task CompareWithPreviousPeriod_CountsTheBoundaryProfileOnTheNewSideOnly()
    {
        // Profiles on whole minutes, as an agent pushing every minute makes them; the range starts on one of them.
        var profile = ProfileDecoder.Decode(TestData.Read("go/cpu_hash_01.pb.gz"));
        profile.TimeNanos = 0;
        var start = new DateTime(2001, 2, 3, 4, 0, 0, DateTimeKind.Utc);
        for (var minute = 0; minute <= 4; minute++)
        {
            await collector.PostAsync($"service=minutes&type=cpu&created_at={UiExpectations.Time(start.AddMinutes(minute))}", ProfileEncoder.EncodeToArray(profile));
        }

        var page = await OpenAsync(1280, 800);
        await page.GotoAsync($"{collector.BaseAddress}ui/#/explore?service=minutes&type=cpu&from={UiExpectations.Time(start.AddMinutes(2))}&to={UiExpectations.Time(start.AddMinutes(4))}");
        await Assertions.Expect(page.Locator("#profiles tbody tr")).ToHaveCountAsync(3);
        await page.Locator("#compare-previous").ClickAsync();
        await page.Locator("#compare-summary").WaitForAsync();

        var summary = await page.Locator("#compare-summary").InnerTextAsync();
        Assert.StartsWith("Base: 2 profiles, ", summary, StringComparison.Ordinal);
        Assert.Contains("New: 3 profiles, ", summary, StringComparison.Ordinal);

        // The download behind the base side finds the same two.
        var download = await page.Locator("a", new() { HasText = "Download base" }).GetAttributeAsync("href");
        var find = download!.Replace("/api/0/profiles/merge?", "/api/0/profiles?", StringComparison.Ordinal);
        using var json = JsonDocument.Parse(await collector.Http.GetStringAsync(find, TestContext.Current.CancellationToken));
        Assert.Equal(2, json.RootElement.GetProperty("body").GetArrayLength());
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Profile_BadIdOpenedFromCompare_ShowsTheErrorWithoutTheCompareForm()
    {
        var page = await OpenAsync(1280, 800);
        await page.GotoAsync($"{collector.BaseAddress}ui/#/compare");
        await page.Locator(".compare-form").WaitForAsync();

        await page.EvaluateAsync("() => { location.hash = '#/profile?id=not-an-id'; }");

        await Assertions.Expect(page.Locator("[role=alert]")).ToContainTextAsync("not a profile id");
        Assert.Equal("Profile", await page.Locator("main h1").InnerTextAsync());
        Assert.Equal(0, await page.Locator(".compare-form").CountAsync());
    }

    [Fact]
    public async Task StartPage_OpensOnTheNewestProfileOfTheMostRecentlyActiveService()
    {
        var candidates = collector.Corpus.Select(p => ("corpus", "cpu", p.Id, p.CreatedAt))
            .Append(("big", "cpu", collector.BigId, collector.BigCreatedAt))
            .Concat(collector.Heap.Select(p => ("mem", "heap", p.Id, p.CreatedAt)))
            .Concat(collector.Goroutines.Select(p => ("mem", "goroutine", p.Id, p.CreatedAt)));
        var (service, type, id, _) = candidates.MaxBy(c => c.Item4);

        var page = await OpenAsync(1280, 800);
        await page.GotoAsync($"{collector.BaseAddress}ui/");
        await page.Locator("#profiles tbody tr").First.WaitForAsync();

        Assert.Equal(service, await page.Locator("#service").InputValueAsync());
        Assert.Equal(type, await page.Locator("#type").InputValueAsync());
        Assert.Equal(id, await page.Locator("#profiles tbody tr").First.Locator("td").Nth(2).InnerTextAsync());
        await ScreenshotAsync(page, "start-page-1280x800");
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Profile_Heap_SwitchesBetweenItsSampleTypes_AndKeepsTheChoiceOnReload()
    {
        var (file, id, _) = collector.Heap[^1];
        var profile = ProfileDecoder.Decode(TestData.Read("go/" + file + ".pb.gz"));
        var page = await OpenAsync(1280, 800);
        await page.GotoAsync($"{collector.BaseAddress}ui/#/profile?id={id}");
        await WaitForFlameAsync(page);

        // Like go tool pprof, a heap profile opens on its default sample type: space in use.
        Assert.Equal(["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"], await page.Locator("#sample-type option").EvaluateAllAsync<string[]>("options => options.map(o => o.value)"));
        Assert.Equal("inuse_space", await page.Locator("#sample-type").InputValueAsync());
        await AssertShowsSampleTypeAsync(page, profile, "inuse_space");
        await ScreenshotAsync(page, "profile-heap-inuse_space-1280x800");

        foreach (var type in new[] { "alloc_space", "alloc_objects" })
        {
            await page.EvaluateAsync("() => { window.profefeRendered = 0; }");
            await page.Locator("#sample-type").SelectOptionAsync(type);
            await WaitForFlameAsync(page);
            Assert.Contains("sample_type=" + type, page.Url, StringComparison.Ordinal);
            await AssertShowsSampleTypeAsync(page, profile, type);
        }

        await ScreenshotAsync(page, "profile-heap-alloc_objects-1280x800");
        await page.ReloadAsync();
        await WaitForFlameAsync(page);
        Assert.Equal("alloc_objects", await page.Locator("#sample-type").InputValueAsync());
        await AssertShowsSampleTypeAsync(page, profile, "alloc_objects");
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Goroutines_ShowOnTheTimelineWithTheirCounts_AndOpenAsProfiles()
    {
        var page = await OpenAsync(1920, 1080);
        var from = UiExpectations.Time(collector.Goroutines[0].CreatedAt);
        var to = UiExpectations.Time(collector.Goroutines[^1].CreatedAt.AddSeconds(1));
        await page.GotoAsync($"{collector.BaseAddress}ui/#/explore?service=mem&type=goroutine&from={from}&to={to}");

        var rows = page.Locator("#profiles tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(collector.Goroutines.Count);
        var profiles = collector.Goroutines.Select(g => ProfileDecoder.Decode(TestData.Read("go/" + g.File + ".pb.gz"))).ToList();
        var sum = profiles.Sum(p => SampleTypeIndex.Total(p, 0));
        Assert.StartsWith($"{collector.Goroutines.Count} profiles, goroutine total {UiExpectations.Value(sum, "count")}.", await page.Locator("#timeline-summary").InnerTextAsync(), StringComparison.Ordinal);

        // Newest first: each row shows its goroutine count.
        for (var i = 0; i < collector.Goroutines.Count; i++)
        {
            var row = rows.Nth(collector.Goroutines.Count - 1 - i);
            Assert.Equal(collector.Goroutines[i].Id, await row.Locator("td").Nth(2).InnerTextAsync());
            Assert.Equal(UiExpectations.Value(SampleTypeIndex.Total(profiles[i], 0), "count"), await row.Locator("td").Nth(5).InnerTextAsync());
        }

        await ScreenshotAsync(page, "explore-goroutine-1920x1080");
        await rows.First.Locator("a").ClickAsync();
        await WaitForFlameAsync(page);
        Assert.Equal($"Profile {collector.Goroutines[^1].Id}", await page.Locator("#profile-title").InnerTextAsync());
        Assert.Equal("goroutine", await page.Locator("#sample-type").InputValueAsync());
        await AssertShowsSampleTypeAsync(page, profiles[^1], "goroutine");
        await ScreenshotAsync(page, "profile-goroutine-1920x1080");
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task BigProfile_ZoomIntoACappedFrame_FetchesItsCalleesInFull_AndReloadsThere()
    {
        var profile = ProfileDecoder.Decode(TestData.Read("go/big_cpu_01.pb.gz"));
        var index = SampleTypeIndex.Resolve(profile, null);
        var page = await OpenAsync(1920, 1080);
        await page.GotoAsync($"{collector.BaseAddress}ui/#/profile?id={collector.BigId}");
        await WaitForFlameAsync(page);

        // The widest frame two levels down whose callees the cap cut; remember what the capped graph had.
        var target = await page.EvaluateAsync<JsonElement>(@"() => {
            const canvas = document.querySelector('canvas.flame');
            const flame = canvas.flame;
            const g = flame.graph;
            window.capped = new Set();
            g.levels.forEach((level, d) => { for (let i = 0; i < level.length; i += g.stride) { window.capped.add(d + '.' + level[i] + '.' + g.names[level[i + 3]]); } });
            const level = g.levels[2];
            let best = -1;
            for (let i = 0; i < level.length; i += g.stride) {
                if (flame.hasOtherBelow(2, i / g.stride) && (best < 0 || level[i + 1] > level[best + 1])) { best = i; }
            }
            const parent = flame.node(1, flame.parentOf(2, best / g.stride));
            const r = canvas.getBoundingClientRect();
            const scale = flame.width() / g.total;
            return { path: [parent.name, g.names[level[best + 3]]], x: r.left + (level[best] + level[best + 1] / 2) * scale, y: r.top + 2 * 18 + 9 };
        }");
        string[] path = [target.GetProperty("path")[0].GetString()!, target.GetProperty("path")[1].GetString()!];
        var expected = FlameGraphBuilder.BuildSubtree(profile, index, path);

        await page.Mouse.ClickAsync(target.GetProperty("x").GetSingle(), target.GetProperty("y").GetSingle());
        var clicked = await page.EvaluateAsync<double>("() => performance.now()");
        await page.WaitForFunctionAsync("() => window.profefeExpanded >= 1 && !window.profefeExpanding");
        var expandedMs = await page.EvaluateAsync<double>("() => performance.now()") - clicked;
        var crumbs = await page.Locator(".crumbs").First.InnerTextAsync();
        Assert.StartsWith($"Zoomed: total › {path[0]} › {path[1]} — ", crumbs, StringComparison.Ordinal);

        // Under the zoomed frame the page now shows what the server computes for that frame alone.
        var shown = await page.EvaluateAsync<JsonElement>(@"() => {
            const flame = document.querySelector('canvas.flame').flame;
            const g = flame.graph;
            const focus = flame.node(flame.focus.depth, flame.focus.index);
            let nodes = 0;
            const children = [];
            for (let d = focus.depth + 1; d < g.levels.length; d++) {
                const level = g.levels[d];
                for (let i = 0; i < level.length; i += g.stride) {
                    if (level[i] >= focus.x && level[i] < focus.x + focus.total) {
                        nodes++;
                        if (d === focus.depth + 1) { children.push(g.names[level[i + 3]]); }
                    }
                }
            }
            return { nodes, children, other: flame.hasOtherBelow(flame.focus.depth, flame.focus.index) };
        }");
        output.WriteLine($"zoom into {string.Join(" › ", path)}: its {expected.NodeCount - 1} callee nodes fetched and drawn {expandedMs:F0} ms after the click");
        Assert.Equal(expected.NodeCount - 1, shown.GetProperty("nodes").GetInt32());
        Assert.Equal(UiExpectations.Names(expected, 1), shown.GetProperty("children").EnumerateArray().Select(e => e.GetString()!).ToList());
        Assert.Equal(expected.Truncated, shown.GetProperty("other").GetBoolean());
        await ScreenshotAsync(page, "profile-big-expanded-1920x1080");

        // Zoom into a frame only the fetched detail has: a reload fetches it again and lands on the same frame.
        var deeper = await page.EvaluateAsync<JsonElement>(@"() => {
            const canvas = document.querySelector('canvas.flame');
            const flame = canvas.flame;
            const g = flame.graph;
            const focus = flame.node(flame.focus.depth, flame.focus.index);
            let best = null;
            for (let d = focus.depth + 1; d < g.levels.length; d++) {
                const level = g.levels[d];
                for (let i = 0; i < level.length; i += g.stride) {
                    const inside = level[i] >= focus.x && level[i] < focus.x + focus.total;
                    if (inside && !window.capped.has(d + '.' + level[i] + '.' + g.names[level[i + 3]]) && (!best || level[i + 1] > best.total)) {
                        best = { depth: d, x: level[i], total: level[i + 1] };
                    }
                }
            }
            const r = canvas.getBoundingClientRect();
            const scale = flame.width() / focus.total;
            return { x: r.left + (best.x - focus.x + best.total / 2) * scale, y: r.top + best.depth * 18 + 9 };
        }");
        await page.Mouse.ClickAsync(deeper.GetProperty("x").GetSingle(), deeper.GetProperty("y").GetSingle());
        var deeperCrumbs = await page.Locator(".crumbs").First.InnerTextAsync();
        Assert.StartsWith($"Zoomed: total › {path[0]} › {path[1]} › ", deeperCrumbs, StringComparison.Ordinal);
        await page.ReloadAsync();
        await WaitForFlameAsync(page);
        await page.WaitForFunctionAsync("() => window.profefeExpanded >= 1 && !window.profefeExpanding");
        Assert.Equal(deeperCrumbs, await page.Locator(".crumbs").First.InnerTextAsync());

        // "other" sums callees the cap cut: zooming into it zooms to their caller and brings them in.
        await page.Locator("button", new() { HasText = "Reset zoom" }).ClickAsync();
        Assert.False(await page.EvaluateAsync<bool>("() => !!window.profefeExpanding"), "the whole graph is already shown: resetting the zoom fetches nothing");
        var caller = await page.EvaluateAsync<string>(@"() => {
            const flame = document.querySelector('canvas.flame').flame;
            const g = flame.graph;
            const other = g.names.indexOf('other');
            for (let d = 2; d < g.levels.length; d++) {
                const level = g.levels[d];
                for (let i = 0; i < level.length; i += g.stride) {
                    if (level[i + 3] === other) {
                        const parent = flame.node(d - 1, flame.parentOf(d, i / g.stride));
                        flame.zoomTo(d, i / g.stride);
                        return parent.name;
                    }
                }
            }
            return null;
        }");
        Assert.NotNull(caller);
        await page.WaitForFunctionAsync("() => window.profefeExpanded >= 2 && !window.profefeExpanding");
        var otherCrumbs = await page.Locator(".crumbs").First.InnerTextAsync();
        Assert.Contains($" › {caller} — ", otherCrumbs, StringComparison.Ordinal);
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Compare_ASidesGraph_FetchesTheCalleesOfACappedFrame()
    {
        var profile = ProfileDecoder.Decode(TestData.Read("go/big_cpu_01.pb.gz"));
        var index = SampleTypeIndex.Resolve(profile, null);
        var page = await OpenAsync(1920, 1080);
        await page.GotoAsync($"{collector.BaseAddress}ui/#/compare?base_id={collector.BigId}&new_id={collector.Corpus[0].Id}");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('canvas.flame').length === 3 && window.profefeRendered", null, new PageWaitForFunctionOptions { Timeout = 60_000 });

        // The base side is the big profile: click the widest frame under the root whose callees the cap cut.
        var target = await page.EvaluateAsync<JsonElement>(@"() => {
            const canvas = document.querySelectorAll('canvas.flame')[0];
            canvas.scrollIntoView({ block: 'start' });
            const flame = canvas.flame;
            const g = flame.graph;
            const level = g.levels[1];
            let best = -1;
            for (let i = 0; i < level.length; i += g.stride) {
                if (flame.hasOtherBelow(1, i / g.stride) && (best < 0 || level[i + 1] > level[best + 1])) { best = i; }
            }
            const r = canvas.getBoundingClientRect();
            const scale = flame.width() / g.total;
            return { name: g.names[level[best + 3]], x: r.left + (level[best] + level[best + 1] / 2) * scale, y: r.top + 18 + 9 };
        }");
        var name = target.GetProperty("name").GetString()!;
        var expected = FlameGraphBuilder.BuildSubtree(profile, index, [name]);
        await page.Mouse.ClickAsync(target.GetProperty("x").GetSingle(), target.GetProperty("y").GetSingle());
        await page.WaitForFunctionAsync("() => window.profefeExpanded >= 1 && !window.profefeExpanding");

        Assert.StartsWith($"Zoomed: total › {name} — ", await page.Locator(".crumbs").First.InnerTextAsync(), StringComparison.Ordinal);
        var below = await page.EvaluateAsync<int>(@"() => {
            const flame = document.querySelectorAll('canvas.flame')[0].flame;
            const g = flame.graph;
            const focus = flame.node(flame.focus.depth, flame.focus.index);
            let nodes = 0;
            for (let d = focus.depth + 1; d < g.levels.length; d++) {
                const level = g.levels[d];
                for (let i = 0; i < level.length; i += g.stride) { nodes += level[i] >= focus.x && level[i] < focus.x + focus.total ? 1 : 0; }
            }
            return nodes;
        }");
        Assert.Equal(expected.NodeCount - 1, below);
        await ScreenshotAsync(page, "compare-big-expanded-1920x1080");
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

    private Task<IPage> OpenAsync(int width, int height) => _browser.OpenAsync(width, height);

    private Task WaitForFlameAsync(IPage page) => _browser.WaitForFlameAsync(page);

    /// <summary>The flame graph's total, the page's total line and the top table's first row, for one sample type.</summary>
    private static async Task AssertShowsSampleTypeAsync(IPage page, Profile profile, string type)
    {
        var index = SampleTypeIndex.Resolve(profile, type);
        var unit = profile.SampleTypes[index].Unit;
        var top = TopTableBuilder.Build(profile, index);
        Assert.Equal(top.Total, await page.EvaluateAsync<long>("() => document.querySelector('canvas.flame').flame.graph.total"));
        Assert.Equal("Total " + UiExpectations.Value(top.Total, unit), await page.Locator("#profile-total").InnerTextAsync());
        var first = page.Locator("#top tbody tr").First;
        Assert.Equal(top.Rows[0].Name, await first.GetAttributeAsync("data-name"));
        Assert.Equal(UiExpectations.Value(top.Rows[0].Flat, unit), await first.Locator("td").Nth(0).InnerTextAsync());
        Assert.Equal(UiExpectations.Percent(top.Rows[0].Flat, top.Total), await first.Locator("td").Nth(1).InnerTextAsync());
        Assert.Equal(UiExpectations.Percent(top.Rows[0].Cum, top.Total), await first.Locator("td").Nth(3).InnerTextAsync());
    }

    private static async Task ClickFrameAsync(IPage page, string name)
    {
        var center = await page.EvaluateAsync<JsonElement>(
            "name => { const c = document.querySelector('canvas.flame'); c.scrollIntoView({ block: 'start' }); const r = c.flame.rectOf(name); return [r.x + r.width / 2, r.y + r.height / 2]; }", name);
        await page.Mouse.ClickAsync(center[0].GetSingle(), center[1].GetSingle());
    }

    private Task ScreenshotAsync(IPage page, string name) => _browser.ScreenshotAsync(page, name);

    private void AssertNoConsoleErrors() => _browser.AssertNoConsoleErrors();

    public ValueTask DisposeAsync() => _browser.DisposeAsync();
}
