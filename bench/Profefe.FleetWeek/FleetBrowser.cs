using System.Diagnostics;
using System.Globalization;
using Microsoft.Playwright;
using Profefe.Testing.Browsers;

namespace Profefe.FleetWeek;

/// <summary>One page of the UI opened on the week: how long from navigation until it was drawn, and what it drew.</summary>
internal sealed record DrawnPage(string Name, string Url, double ColdMs, double MedianMs, double MinMs, string Drawn, IReadOnlyList<string> Problems);

/// <summary>
/// Issue 13, acceptance 7: Debian's Chromium (driven by Playwright, as the UI tests drive it) opens the UI on the
/// week and draws the 7-day time series grouped by pod and the week's merged flame graph; each page is timed from
/// navigation to drawn, once cold and then <c>runs</c> times in fresh browser contexts (nothing cached).
/// </summary>
internal static class FleetBrowser
{
    // The explore page marks the timeline box when its chart is in the DOM; the profile page sets profefeRendered
    // when the flame graph's canvas has been painted.
    private const string SeriesDrawn = "() => document.querySelector('section[aria-label=Timeline]')?.hasAttribute('data-drawn-ms') && document.querySelectorAll('svg.series path.series-line').length > 0";
    private const string SeriesFigures = "() => [document.querySelectorAll('svg.series path.series-line').length + ' lines (' + [...document.querySelectorAll('svg.series path.series-line')].map((p) => p.dataset.group).join(' ') + ')', document.getElementById('timeline-summary')?.textContent ?? '']";
    private const string FlameDrawn = "() => window.profefeRendered && document.querySelector('#top tbody tr')";
    private const string FlameFigures = "() => [document.querySelector('h1')?.textContent ?? '', String(document.querySelectorAll('#top tbody tr').length) + ' top rows']";

    public static async Task<IReadOnlyList<DrawnPage>> MeasureAsync(Uri collector, string service, FleetPlan plan, int runs, Action<string> step)
    {
        var from = FleetPlan.Start.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);
        var to = FleetPlan.TimeOf(plan.Minutes).AddSeconds(-1).ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);
        var range = $"service={service}&type=cpu&from={from}&to={to}";

        using var playwright = await Playwright.CreateAsync().ConfigureAwait(false);
        await using var browser = await SystemChromium.LaunchAsync(playwright).ConfigureAwait(false);

        return
        [
            await TimePageAsync(browser, $"time series, {plan.Days} days, grouped by pod", new Uri(collector, $"ui/#/explore?{range}&group_by=pod"), SeriesDrawn, SeriesFigures, runs, step, plan.Pods).ConfigureAwait(false),
            await TimePageAsync(browser, $"merged flame graph, {plan.Days} days", new Uri(collector, $"ui/#/profile?{range}"), FlameDrawn, FlameFigures, runs, step, expectedLines: null).ConfigureAwait(false),
        ];
    }

    private static async Task<DrawnPage> TimePageAsync(IBrowser browser, string name, Uri url, string drawn, string figures, int runs, Action<string> step, int? expectedLines)
    {
        var problems = new List<string>();
        var timings = new List<double>();
        var described = "";
        for (var run = 0; run <= runs; run++)
        {
            await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } }).ConfigureAwait(false);
            var page = await context.NewPageAsync().ConfigureAwait(false);
            var errors = new List<string>();
            page.Console += (_, message) =>
            {
                if (message.Type == "error")
                {
                    errors.Add(message.Text);
                }
            };
            page.PageError += (_, error) => errors.Add(error);

            var clock = Stopwatch.StartNew();
            await page.GotoAsync(url.ToString()).ConfigureAwait(false);
            try
            {
                await page.WaitForFunctionAsync(drawn, null, new PageWaitForFunctionOptions { Timeout = 60_000, PollingInterval = 5 }).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                problems.Add($"not drawn within a minute; page: {await page.Locator("main").InnerTextAsync().ConfigureAwait(false)}");
                break;
            }

            timings.Add(clock.Elapsed.TotalMilliseconds);
            var shown = await page.EvaluateAsync<string[]>(figures).ConfigureAwait(false);
            described = string.Join("; ", shown);
            if (expectedLines is { } lines && !shown[0].StartsWith(lines.ToString(CultureInfo.InvariantCulture) + " lines", StringComparison.Ordinal))
            {
                problems.Add($"expected {lines} lines, one per pod: {shown[0]}");
            }

            problems.AddRange(errors.Select(static error => "console: " + error));
            step($"  {name}: run {run} drawn in {timings[^1] / 1000:0.000} s ({described})");
        }

        var warm = timings.Skip(1).Order().ToList();
        return new DrawnPage(name, url.ToString(), timings.FirstOrDefault(), warm.Count == 0 ? double.NaN : warm[warm.Count / 2], warm.Count == 0 ? double.NaN : warm[0], described, problems);
    }
}
