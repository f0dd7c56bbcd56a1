using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Profefe.Core.Storage;

namespace Profefe.Storage.S3;

/// <summary>Retention's bulk delete, shared by every S3 store: one DeleteObjects request per batch of keys.</summary>
internal static class S3ObjectDeleter
{
    /// <summary>
    /// Deletes <paramref name="keys"/> (at most 1,000) under <see cref="S3StorageOptions.OperationTimeout"/>;
    /// <paramref name="unavailable"/> is the store's own mapping (and logging) of failures. Returns the objects the
    /// server could not delete, each logged; <see cref="PartialFailure"/> turns them into the error to throw.
    /// </summary>
    public static async Task<List<DeleteError>> DeleteAsync(
        IAmazonS3 client,
        S3StorageOptions options,
        IReadOnlyList<string> keys,
        Func<Exception, S3RequestDeadline, StorageUnavailableException?> unavailable,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        var objects = new List<KeyVersion>(keys.Count);
        foreach (var key in keys)
        {
            objects.Add(new KeyVersion { Key = key });
        }

        DeleteObjectsResponse response;
        using var deadline = new S3RequestDeadline(options.EffectiveOperationTimeout, cancellationToken);
        try
        {
            response = await client.DeleteObjectsAsync(new DeleteObjectsRequest
            {
                BucketName = options.Bucket,
                Objects = objects,
                Quiet = true,
            }, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (unavailable(exception, deadline) is { } failure)
        {
            throw failure;
        }

        var errors = response.DeleteErrors ?? [];
        foreach (var error in errors)
        {
            Log.DeleteFailed(logger, error.Key, error.Code, error.Message);
        }

        return errors;
    }

    /// <summary>What is left is found again by the next retention pass.</summary>
    public static StorageUnavailableException PartialFailure(string bucket, List<DeleteError> errors) =>
        new(S3Errors.Dependency, $"s3: could not delete {errors.Count} objects from bucket {bucket}, e.g. {errors[0].Key}: {errors[0].Code}", null);
}
