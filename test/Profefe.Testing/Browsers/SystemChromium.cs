using Microsoft.Playwright;

namespace Profefe.Testing.Browsers;

/// <summary>
/// Debian's Chromium driven by Playwright's bundled driver, launched the same way by the UI tests and the benches.
/// Playwright's own browser download is never used: everything runs against the system browser, which CI
/// installs with apt. Linked into the projects that drive a browser (see Profefe.Testing.csproj for why).
/// </summary>
internal static class SystemChromium
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>Why the browser cannot be launched here, or null when it can.</summary>
    public static string? UnavailableReason => File.Exists(ExecutablePath) ? null : $"{ExecutablePath} is not installed (apt-get install chromium)";

    /// <summary>Headless, without sandbox, GPU or any background traffic of the browser's own.</summary>
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        ArgumentNullException.ThrowIfNull(playwright);
        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        });
    }
}
