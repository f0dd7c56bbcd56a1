namespace Profefe.Testing;

/// <summary>
/// The "Category" trait of tests that <c>./test.sh --quick</c> leaves out: they kill processes or take a
/// dependency down (Chaos), or drive Chromium (Browser). CI runs every test.
/// </summary>
public static class TestCategory
{
    public const string Name = "Category";

    public const string Chaos = "Chaos";

    public const string Browser = "Browser";
}
