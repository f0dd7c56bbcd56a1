using Microsoft.Playwright;
using Profefe.Testing;

namespace Profefe.Server.Tests.Ui;

/// <summary>
/// The pages one test opens in the shared Chromium: each in a context of its own, with every console error and
/// uncaught exception collected, and screenshots written to TestResults/ui/ as test artifacts.
/// </summary>
internal sealed class UiBrowserSession(ChromiumFixture chromium, ITestOutputHelper output) : IAsyncDisposable
{
    private static readonly string ScreenshotDirectory = Path.Combine(TestData.RepoRoot, "TestResults", "ui");

    private readonly List<string> _consoleErrors = [];
    private readonly List<IBrowserContext> _contexts = [];

    public async Task<IPage> OpenAsync(int width, int height)
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

    /// <summary>Waits until the profile page has drawn its flame graph and filled its top table.</summary>
    public async Task WaitForFlameAsync(IPage page)
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

    public async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var path = Path.Combine(ScreenshotDirectory, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine("screenshot: " + path);
    }

    public void AssertNoConsoleErrors() => Assert.Empty(_consoleErrors);

    public async ValueTask DisposeAsync()
    {
        foreach (var context in _contexts)
        {
            await context.DisposeAsync();
        }
    }
}
