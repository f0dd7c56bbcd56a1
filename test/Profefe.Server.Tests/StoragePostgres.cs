using Profefe.Testing.Servers;

namespace Profefe.Server.Tests;

/// <summary>One PostgreSQL server shared by the test classes in this collection (they run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class StoragePostgresTests : ICollectionFixture<PostgresServerFixture>
{
    public const string Name = "PostgreSQL";
}

/// <summary>Configuration for the scale-out tests' backends.</summary>
internal static class ScaleOutStores
{
    /// <summary>
    /// The settings of <paramref name="storageType"/> ("postgres" or "s3+postgres") on <paramref name="schema"/>, for
    /// s3+postgres in a new bucket of <paramref name="rgw"/> (asked for only then).
    /// </summary>
    public static async Task<Dictionary<string, string?>> ForAsync(string storageType, PostgresTestSchema schema, Func<CephRgwServer> rgw) =>
        storageType == "s3+postgres"
            ? S3Postgres(rgw(), await CreateBucketAsync(rgw()), schema)
            : schema.Settings(storageType);

    /// <summary>S3 + PostgreSQL on <paramref name="rgw"/>'s <paramref name="bucket"/> and <paramref name="schema"/>, with short bounds.</summary>
    public static Dictionary<string, string?> S3Postgres(CephRgwServer rgw, string bucket, PostgresTestSchema schema)
    {
        var settings = schema.Settings("s3+postgres");
        settings["Storage:S3:ServiceUrl"] = rgw.ServiceUrl;
        settings["Storage:S3:Region"] = CephRgwServer.Region;
        settings["Storage:S3:Bucket"] = bucket;
        settings["Storage:S3:AccessKey"] = rgw.AccessKey;
        settings["Storage:S3:SecretKey"] = rgw.SecretKey;
        settings["Storage:S3:ForcePathStyle"] = "true";
        settings["Storage:S3:Timeout"] = "00:00:10";
        settings["Storage:S3:ConnectTimeout"] = "00:00:02";
        settings["Storage:S3:MaxErrorRetry"] = "1";
        return settings;
    }

    /// <summary>A new bucket; retried, because a radosgw just restarted by an earlier test may take a while to answer.</summary>
    public static async Task<string> CreateBucketAsync(CephRgwServer rgw)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await rgw.CreateBucketAsync();
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
            }
        }
    }

    /// <summary>
    /// Short bounds so an outage turns into 503s quickly. A frozen object store otherwise holds each request for
    /// S3:Timeout × (1 + MaxErrorRetry) + 2 s (32 s with <see cref="S3Postgres"/>'s 10 s); 2 s and one retry make it 6 s.
    /// </summary>
    public static Dictionary<string, string?> WithShortBounds(Dictionary<string, string?> settings)
    {
        settings["Storage:Postgres:ConnectTimeout"] = "00:00:02";
        settings["Storage:Postgres:CommandTimeout"] = "00:00:05";
        settings["Storage:HealthTimeout"] = "00:00:03";
        if (settings.ContainsKey("Storage:S3:Bucket"))
        {
            settings["Storage:S3:Timeout"] = "00:00:02";
            settings["Storage:S3:ConnectTimeout"] = "00:00:01";
            settings["Storage:S3:MaxErrorRetry"] = "1";
        }

        return settings;
    }
}
