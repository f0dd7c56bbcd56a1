namespace Profefe.Testing;

/// <summary>
/// The "Category" trait of tests that <c>./test.sh --quick</c> leaves out: they kill processes, take a
/// dependency down or send thousands of mutated requests (Chaos), drive Chromium (Browser), build and
/// install a clean copy of the repository (Install), or take ten seconds and more each on a quiet machine (Slow:
/// the engine contract on PostgreSQL and on S3 + PostgreSQL, whose local run stays; collectors as processes
/// sharing a store; SDKs and programs built with npm and Go; a watch resumed through its retry backoff).
/// CI runs every test.
/// </summary>
public static class TestCategory
{
    public const string Name = "Category";

    public const string Chaos = "Chaos";

    public const string Browser = "Browser";

    public const string Install = "Install";

    public const string Slow = "Slow";
}
