using Microsoft.Extensions.Logging;
using Profefe.Core.Engine;
using Profefe.Core.Storage.Objects;

namespace Profefe.Storage.S3;

/// <summary>
/// The profile engine's blocks in the bucket, under "{Prefix}~engine/": '~' sorts after every profile id, so the
/// profile store's listings by arrival stop before reaching them, and profefe's own layout never uses it.
/// </summary>
public sealed class S3EngineBlockObjects : IEngineBlockObjects, IDisposable
{
    private readonly S3Bucket _bucket;
    private readonly string _prefix;

    public S3EngineBlockObjects(S3StorageOptions options, ILogger<S3EngineBlockObjects>? logger = null)
    {
        _bucket = new S3Bucket(options, logger, Log.Unavailable);
        _prefix = _bucket.Options.Prefix + "~engine/";
    }

    public Task PutAsync(string name, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => _bucket.PutObjectAsync(_prefix + name, data, cancellationToken);

    public Task<byte[]?[]> GetRangesAsync(IReadOnlyList<ObjectRange<string>> ranges, CancellationToken cancellationToken) =>
        _bucket.GetRangesAsync(ranges, range => _prefix + range.Name, static range => range.Offset, static range => range.Length, cancellationToken);

    public Task DeleteAsync(IReadOnlyList<string> names, CancellationToken cancellationToken) =>
        _bucket.DeleteObjectsAsync(names, name => _prefix + name, cancellationToken);

    // Block keys carry no time: every one is "made" long ago, and the bucket's modification time decides.
    public IAsyncEnumerable<IReadOnlyList<string>> ListWrittenBeforeAsync(DateTime before, CancellationToken cancellationToken) =>
        _bucket.ListMadeBeforeAsync(_prefix, null, before.ToUniversalTime(), static (ReadOnlySpan<char> name, out string key, out DateTime made) =>
        {
            key = name.ToString();
            made = DateTime.MinValue;
            return true;
        }, resumable: false, cancellationToken);

    public void Dispose() => _bucket.Dispose();
}
