using Profefe.Testing.Servers;

namespace Profefe.Storage.S3.Tests;

/// <summary>A fresh bucket on the shared test RGW for profefe's layout: no prefix, as profefe itself writes.</summary>
internal static class ProfefeS3TestBucket
{
    public static async Task<S3StorageOptions> CreateAsync(CephRgwServer server) => new()
    {
        ServiceUrl = server.ServiceUrl,
        Region = CephRgwServer.Region,
        Bucket = await server.CreateBucketAsync(),
        AccessKey = server.AccessKey,
        SecretKey = server.SecretKey,
        ForcePathStyle = true,
        Timeout = TimeSpan.FromSeconds(10),
        ConnectTimeout = TimeSpan.FromSeconds(2),
        MaxErrorRetry = 1,
    };
}
