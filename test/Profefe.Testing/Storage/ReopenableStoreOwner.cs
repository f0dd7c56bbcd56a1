namespace Profefe.Testing.Storage;

/// <summary>
/// What a contract test's store owns: the store itself and, for the first store only, the place it was opened on (a
/// schema, a bucket). A reopened store owns no place, so disposing it before the first leaves the place intact.
/// </summary>
public sealed class ReopenableStoreOwner<TPlace>(IAsyncDisposable storage, TPlace? place) : IAsyncDisposable
    where TPlace : class, IAsyncDisposable
{
    public TPlace Place => place ?? throw new InvalidOperationException("only the first store owns the place it was opened on");

    public async ValueTask DisposeAsync()
    {
        await storage.DisposeAsync();
        if (place is not null)
        {
            await place.DisposeAsync();
        }
    }
}
