using Profefe.Core.Storage;

namespace Profefe.Testing.Storage;

/// <summary>
/// A backend opened for one contract test. <paramref name="Owner"/> is disposed after the test
/// (close the database, drop the schema, delete the bucket, …); it may be null.
/// </summary>
public sealed record ProfileStorageUnderTest(
    IProfileWriter Writer,
    IProfileReader Reader,
    IProfileRetention Retention,
    IAsyncDisposable? Owner);
