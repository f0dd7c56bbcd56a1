using System.Runtime.CompilerServices;
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
    // DeleteObjects takes at most 1,000 keys.
    private const int MaxKeysPerRequest = 1000;

    private readonly S3Bucket _bucket;
    private readonly string _prefix;

    public S3EngineBlockObjects(S3StorageOptions options, ILogger<S3EngineBlockObjects>? logger = null)
    {
        _bucket = new S3Bucket(options, logger, Log.Unavailable);
        _prefix = _bucket.Options.Prefix + "~engine/";
    }

    public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => _bucket.PutAsync(_prefix + key, data, cancellationToken);

    public Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken) => _bucket.GetAsync(_prefix + key, cancellationToken);

    public async Task DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        for (var start = 0; start < keys.Count; start += MaxKeysPerRequest)
        {
            var names = new List<string>(Math.Min(MaxKeysPerRequest, keys.Count - start));
            for (var i = start; i < Math.Min(keys.Count, start + MaxKeysPerRequest); i++)
            {
                names.Add(_prefix + keys[i]);
            }

            var errors = await S3ObjectDeleter.DeleteAsync(_bucket.Client, _bucket.Options, names, (e, deadline) => _bucket.Unavailable(e, cancellationToken, deadline), _bucket.Logger, cancellationToken)
                .ConfigureAwait(false);
            if (errors.Count > 0)
            {
                throw S3ObjectDeleter.PartialFailure(_bucket.Options.Bucket, errors);
            }
        }
    }

    public async IAsyncEnumerable<IReadOnlyList<string>> ListWrittenBeforeAsync(DateTime before, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = _bucket.Options.Bucket, Prefix = _prefix, MaxKeys = MaxKeysPerRequest };
        while (true)
        {
            var response = await _bucket.ListPageAsync(request, cancellationToken).ConfigureAwait(false);
            var page = new List<string>();
            foreach (var item in response.S3Objects ?? [])
            {
                if (item.LastModified is { } modified && modified.ToUniversalTime() < before.ToUniversalTime())
                {
                    page.Add(item.Key[_prefix.Length..]);
                }
            }

            if (page.Count > 0)
            {
                yield return page;
            }

            if (response.IsTruncated != true || string.IsNullOrEmpty(response.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = response.NextContinuationToken;
        }
    }

    public void Dispose() => _bucket.Dispose();
}
