namespace Profefe.Testing;

/// <summary>
/// The "Category" trait of tests that <c>./test.sh --quick</c> leaves out: they kill processes, take a
/// dependency down or send thousands of mutated requests (Chaos), drive Chromium (Browser), or build and
/// install a clean copy of the repository (Install). CI runs every test.
/// </summary>
public static class TestCategory
{
    public const string Name = "Category";

    public const string Chaos = "Chaos";

    public const string Browser = "Browser";

    public const string Install = "Install";
}
