using Amazon;
using Amazon.Runtime;
using Amazon.S3;

namespace Profefe.Storage.S3;

/// <summary>Builds the SDK client from <see cref="S3StorageOptions"/>, the same way for every S3 layout.</summary>
public static class S3ClientFactory
{
    public static AmazonS3Client Create(S3StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (new S3StorageOptionsValidator().Validate(null, options) is { Failed: true } invalid)
        {
            throw new ArgumentException(invalid.FailureMessage, nameof(options));
        }

        var checksums = options.ChecksumMode == S3ChecksumMode.WhenSupported;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            RequestChecksumCalculation = checksums ? RequestChecksumCalculation.WHEN_SUPPORTED : RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = checksums ? ResponseChecksumValidation.WHEN_SUPPORTED : ResponseChecksumValidation.WHEN_REQUIRED,
            Timeout = options.Timeout,
            ConnectTimeout = options.ConnectTimeout,
            MaxErrorRetry = options.MaxErrorRetry,
            // Standard: exponential backoff with jitter and a retry budget, so an outage does not multiply the load.
            RetryMode = RequestRetryMode.Standard,
            // Each collector's concurrent requests (merges, multipart parts) plus headroom for concurrent uploads.
            MaxConnectionsPerServer = Math.Max(options.MaxConcurrentRequests * 4, 32),
        };
        if (options.ServiceUrl.Length > 0)
        {
            config.ServiceURL = options.ServiceUrl;
            // With a custom endpoint the region only goes into the signature.
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        if (options.AccessKey.Length == 0)
        {
            return new AmazonS3Client(config);
        }

        AWSCredentials credentials = options.SessionToken.Length > 0
            ? new SessionAWSCredentials(options.AccessKey, options.SecretKey, options.SessionToken)
            : new BasicAWSCredentials(options.AccessKey, options.SecretKey);
        return new AmazonS3Client(credentials, config);
    }
}
