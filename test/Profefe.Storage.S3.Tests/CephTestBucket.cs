using Profefe.Testing.Servers;

namespace Profefe.Storage.S3.Tests;

/// <summary>Options for a fresh bucket on the shared test RGW, so tests never see each other's objects.</summary>
internal static class CephTestBucket
{
    public static async Task<S3StorageOptions> CreateAsync(CephRgwServer server, Action<S3StorageOptions>? configure = null)
    {
        var options = new S3StorageOptions
        {
            ServiceUrl = server.ServiceUrl,
            Region = CephRgwServer.Region,
            Bucket = await server.CreateBucketAsync(),
            Prefix = "profiles/",
            AccessKey = server.AccessKey,
            SecretKey = server.SecretKey,
            ForcePathStyle = true,
            Timeout = TimeSpan.FromSeconds(10),
            ConnectTimeout = TimeSpan.FromSeconds(2),
            MaxErrorRetry = 1,
            OrphanMinAge = TimeSpan.Zero,
        };
        configure?.Invoke(options);
        return options;
    }
}
