using Microsoft.Playwright;
using Profefe.Testing.Browsers;

namespace Profefe.Server.Tests.Ui;

/// <summary>One system Chromium (<see cref="SystemChromium"/>) shared by the browser tests.</summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser? Browser { get; private set; }

    public string? UnavailableReason { get; private set; }

    public async ValueTask InitializeAsync()
    {
        UnavailableReason = SystemChromium.UnavailableReason;
        if (UnavailableReason is not null)
        {
            return;
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await SystemChromium.LaunchAsync(_playwright);
    }
    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
