using Amazon.S3;
using Amazon.S3.Model;
using Profefe.Core.Storage;

namespace Profefe.Storage.S3;

/// <summary>The readiness check every S3 store answers /health with.</summary>
internal static class S3BucketProbe
{
    /// <summary>
    /// HeadBucket with these credentials, within <see cref="S3StorageOptions.ReadinessTimeout"/> so that a hung object
    /// storage is named rather than outlasting the caller's bound. <paramref name="unavailable"/> is the store's own
    /// mapping (and logging) of failures.
    /// </summary>
    public static async Task CheckReadyAsync(
        IAmazonS3 client,
        S3StorageOptions options,
        Func<Exception, S3RequestDeadline, StorageUnavailableException?> unavailable,
        CancellationToken cancellationToken)
    {
        using var deadline = new S3RequestDeadline(options.EffectiveReadinessTimeout, cancellationToken);
        try
        {
            await client.HeadBucketAsync(new HeadBucketRequest { BucketName = options.Bucket }, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (unavailable(exception, deadline) is { } failure)
        {
            throw failure;
        }
    }
}
