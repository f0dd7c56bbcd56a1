using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Profefe.Core.Engine;

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

    public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => _bucket.PutObjectAsync(_prefix + key, data, cancellationToken);

    public async Task<byte[]?[]> GetRangesAsync(IReadOnlyList<EngineObjectRange> ranges, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        var found = new byte[]?[ranges.Count];
        await Parallel.ForAsync(0, ranges.Count, new ParallelOptions { MaxDegreeOfParallelism = _bucket.Options.MaxConcurrentRequests, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var range = ranges[i];
                // An empty range has no byte to ask for (HTTP ranges are inclusive).
                found[i] = range.Length == 0
                    ? []
                    : await _bucket.GetObjectAsync(_prefix + range.Key, new ByteRange(range.Offset, range.Offset + range.Length - 1), ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return found;
    }

    public Task DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
        _bucket.DeleteObjectsAsync(keys, key => _prefix + key, cancellationToken);

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
