using Profefe.Storage.S3;

namespace Profefe.Testing.Servers;

/// <summary>Options for a fresh bucket on a test RGW, so tests never see each other's objects.</summary>
public static class CephTestBucket
{
    /// <summary>Objects under "profiles/", short bounds, orphans deletable at once; <paramref name="configure"/> changes the rest.</summary>
    public static async Task<S3StorageOptions> CreateAsync(CephRgwServer server, Action<S3StorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(server);
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

    /// <summary>A fresh bucket for profefe's layout: no prefix, as profefe itself writes, and the default orphan age.</summary>
    public static Task<S3StorageOptions> CreateForProfefeLayoutAsync(CephRgwServer server) =>
        CreateAsync(server, static options =>
        {
            options.Prefix = "";
            options.OrphanMinAge = new S3StorageOptions().OrphanMinAge;
        });
}
