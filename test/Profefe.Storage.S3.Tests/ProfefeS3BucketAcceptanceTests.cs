using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Profefe.Core.Profiles;
using Profefe.Pprof;
using Profefe.Testing;
using Profefe.Testing.Collectors;
using Profefe.Testing.Servers;

namespace Profefe.Storage.S3.Tests;

/// <summary>
/// Issue 4, acceptance 4: a bucket written in profefe's S3 layout, by plain S3 calls that follow the layout as
/// profefe's pkg/storage/s3 writes it, served by the collector with Storage:Type=s3 over HTTP.
/// </summary>
public sealed class ProfefeS3BucketAcceptanceTests(CephRgwServerFixture rgw)
{
    private static readonly DateTime T0 = new(2024, 5, 1, 10, 0, 0, DateTimeKind.Utc);
    private const string Range = "from=2024-05-01T00:00:00&to=2024-05-02T00:00:00";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ProfefeWrittenBucket_IsListedFoundDownloadedAndMerged()
    {
        var server = rgw.Require();
        var bucket = await server.CreateBucketAsync();
        var cpu1 = new BucketProfile("billing", 1, Xid(T0, 1), "host=a,region=eu", "go/cpu_hash_01.pb.gz");
        var cpu2 = new BucketProfile("billing", 1, Xid(T0.AddMinutes(1), 2), "host=b,region=eu", "go/cpu_hash_02.pb.gz");
        var cpu3 = new BucketProfile("billing", 1, Xid(T0.AddMinutes(2), 3), "host=c,region=us", "go/cpu_json_01.pb.gz");
        var heap = new BucketProfile("billing", 2, Xid(T0.AddSeconds(30), 4), "region=eu", "go/heap_01.pb.gz");
        // profefe writes a service "auth/v2" as "auth__v2" and reads it back so.
        var auth = new BucketProfile("auth__v2", 1, Xid(T0, 5), "", "go/cpu_math_01.pb.gz");
        using (var s3 = PlainClient(server))
        {
            foreach (var profile in new[] { cpu1, cpu2, cpu3, heap, auth })
            {
                await PutAsync(s3, bucket, profile.Key, TestData.Read(profile.File), profile);
            }

            // Objects that are not profiles in the layout: profefe skips them, so do we.
            await PutAsync(s3, bucket, "README.txt", "not a profile"u8.ToArray(), null);
            await PutAsync(s3, bucket, "P0.billing/1/not-an-xid,host=a", "not a profile"u8.ToArray(), null);
        }

        await using var collector = await StartAsync(server, bucket);

        Assert.Equal("{\"code\":200,\"body\":[\"auth__v2\",\"billing\"]}\n", await GetStringAsync(collector.Client, "api/0/services", HttpStatusCode.OK));

        var found = Body(await GetStringAsync(collector.Client, $"api/0/profiles?service=billing&type=cpu&{Range}", HttpStatusCode.OK)).EnumerateArray().ToArray();
        Assert.Equal([cpu1.Id, cpu2.Id, cpu3.Id], found.Select(m => m.GetProperty("id").GetString()));
        Assert.Equal(
            "{\"id\":\"" + cpu1.Id + "\",\"type\":\"cpu\",\"service\":\"billing\",\"labels\":[{\"key\":\"host\",\"value\":\"a\"},{\"key\":\"region\",\"value\":\"eu\"}],\"created_at\":\"2024-05-01T10:00:00Z\"}",
            found[0].GetRawText());
        var eu = Body(await GetStringAsync(collector.Client, $"api/0/profiles?service=billing&labels=region=eu&{Range}", HttpStatusCode.OK));
        Assert.Equal([cpu1.Id, heap.Id, cpu2.Id], eu.EnumerateArray().Select(m => m.GetProperty("id").GetString()));
        var window = Body(await GetStringAsync(collector.Client, "api/0/profiles?service=billing&type=cpu&from=2024-05-01T10:00:30&to=2024-05-01T10:01:00", HttpStatusCode.OK));
        Assert.Equal([cpu2.Id], window.EnumerateArray().Select(m => m.GetProperty("id").GetString()));
        Assert.Single(Body(await GetStringAsync(collector.Client, $"api/0/profiles?service=auth__v2&{Range}", HttpStatusCode.OK)).EnumerateArray());

        foreach (var profile in new[] { cpu1, cpu2, cpu3, heap, auth })
        {
            Assert.Equal(TestData.Read(profile.File), await GetBytesAsync(collector.Client, "api/0/profiles/" + profile.Id));
        }

        var merged = ProfileDecoder.Decode(await GetBytesAsync(collector.Client, $"api/0/profiles/merge?service=billing&type=cpu&labels=region=eu&{Range}"));
        Assert.Equal(Totals(cpu1, cpu2), Totals(merged));
        var byIds = ProfileDecoder.Decode(await GetBytesAsync(collector.Client, $"api/0/profiles/{cpu1.Id}+{cpu2.Id}+{cpu3.Id}"));
        Assert.Equal(Totals(cpu1, cpu2, cpu3), Totals(byIds));
    }

    [Fact]
    public async Task ProfileByIdOnly_AnotherCollectorWithNothingCached_FindsItInTheBucket()
    {
        var server = rgw.Require();
        var bucket = await server.CreateBucketAsync();
        var heap = new BucketProfile("api", 2, Xid(T0, 7), "region=eu", "go/heap_02.pb.gz");
        using (var s3 = PlainClient(server))
        {
            await PutAsync(s3, bucket, heap.Key, TestData.Read(heap.File), heap);
        }

        await using var first = await StartAsync(server, bucket);
        await using var second = await StartAsync(server, bucket);
        using (var health = await first.Client.GetAsync("health", Token))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        var data = TestData.Read("go/cpu_hash_01.pb.gz");
        using var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var push = await first.Client.PostAsync("api/0/profiles?service=api&type=cpu&labels=region=eu", content, Token);
        var pushed = Body(await push.Content.ReadAsStringAsync(Token));
        Assert.Equal(HttpStatusCode.OK, push.StatusCode);
        var id = pushed.GetProperty("id").GetString()!;

        Assert.Equal(TestData.Read(heap.File), await GetBytesAsync(second.Client, "api/0/profiles/" + heap.Id));
        Assert.Equal(data, await GetBytesAsync(second.Client, "api/0/profiles/" + id));
        using var unknown = await second.Client.GetAsync("api/0/profiles/" + Xid(T0, 99), Token);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        // What the collector wrote is a key in profefe's layout, under the service and profefe's type number.
        using var s3Client = PlainClient(server);
        var keys = (await s3Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket }, Token)).S3Objects.Select(o => o.Key).ToList();
        Assert.Contains(keys, key => key.StartsWith("P0.api/1/" + id + ",", StringComparison.Ordinal) && key.EndsWith(",region=eu", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BucketMissing_PushFindAndHealth_Answer503NamingS3()
    {
        var server = rgw.Require();
        await using var collector = await StartAsync(server, "no-such-bucket-" + Guid.NewGuid().ToString("N")[..8]);
        using var content = new ByteArrayContent(TestData.Read("go/cpu_hash_01.pb.gz"));

        using var push = await collector.Client.PostAsync("api/0/profiles?service=api&type=cpu", content, Token);
        using var find = await collector.Client.GetAsync($"api/0/profiles?service=api&{Range}", Token);
        using var health = await collector.Client.GetAsync("health", Token);

        foreach (var response in new[] { push, find, health })
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("s3", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        }
    }

    /// <summary>An xid as profefe's digest: 4 bytes of Unix seconds, then machine, process and counter.</summary>
    private static string Xid(DateTime time, int counter)
    {
        var bytes = new byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)new DateTimeOffset(time).ToUnixTimeSeconds());
        bytes[4] = 0xa1;
        bytes[5] = 0xb2;
        bytes[6] = 0xc3;
        bytes[8] = 0x2a;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(10), (ushort)counter);
        return ProfileId.FromBytes(bytes).ToString();
    }

    private static AmazonS3Client PlainClient(CephRgwServer server) => new(
        new BasicAWSCredentials(server.AccessKey, server.SecretKey),
        new AmazonS3Config
        {
            ServiceURL = server.ServiceUrl,
            AuthenticationRegion = CephRgwServer.Region,
            ForcePathStyle = true,
            // Ceph 16 RGW rejects the SDK's default trailing checksums.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });

    private static async Task PutAsync(AmazonS3Client s3, string bucket, string key, byte[] data, BucketProfile? profile)
    {
        using var body = new MemoryStream(data);
        var request = new PutObjectRequest { BucketName = bucket, Key = key, InputStream = body };
        if (profile is not null)
        {
            // The metadata profefe's WriteProfile attaches.
            request.Metadata.Add("service", profile.Service);
            request.Metadata.Add("type", profile.Type == 1 ? "cpu" : "heap");
            request.Metadata.Add("labels", profile.Labels);
            request.Metadata.Add("created_at", "2024-05-01T10:00:00Z");
        }

        await s3.PutObjectAsync(request, Token);
    }

    private static long[] Totals(params BucketProfile[] profiles)
    {
        long[]? sum = null;
        foreach (var profile in profiles)
        {
            var totals = Totals(ProfileDecoder.Decode(TestData.Read(profile.File)));
            sum ??= new long[totals.Length];
            for (var i = 0; i < totals.Length; i++)
            {
                sum[i] += totals[i];
            }
        }

        return sum!;
    }

    private static long[] Totals(Profile profile)
    {
        var totals = new long[profile.SampleTypes.Count];
        foreach (var sample in profile.Samples)
        {
            for (var i = 0; i < totals.Length; i++)
            {
                totals[i] += sample.Values[i];
            }
        }

        return totals;
    }

    private static JsonElement Body(string json) => JsonDocument.Parse(json).RootElement.GetProperty("body").Clone();

    private static async Task<string> GetStringAsync(HttpClient client, string url, HttpStatusCode expected)
    {
        using var response = await client.GetAsync(url, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        Assert.True(response.StatusCode == expected, $"{url}: {(int)response.StatusCode} {text}");
        return text;
    }

    private static async Task<byte[]> GetBytesAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url, Token);
        var data = await response.Content.ReadAsByteArrayAsync(Token);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(data)}");
        return data;
    }

    private static Task<TestCollector> StartAsync(CephRgwServer server, string bucket) => TestCollector.StartAsync(new Dictionary<string, string?>
    {
        ["Storage:Type"] = "s3",
        ["Storage:S3:ServiceUrl"] = server.ServiceUrl,
        ["Storage:S3:Region"] = CephRgwServer.Region,
        ["Storage:S3:Bucket"] = bucket,
        ["Storage:S3:AccessKey"] = server.AccessKey,
        ["Storage:S3:SecretKey"] = server.SecretKey,
        ["Storage:S3:ForcePathStyle"] = "true",
    });

    /// <summary>One object as profefe's createProfileKey names it: P0.service/type/xid[,labels].</summary>
    private sealed record BucketProfile(string Service, int Type, string Id, string Labels, string File)
    {
        public string Key => $"P0.{Service}/{Type}/{Id}" + (Labels.Length > 0 ? "," + Labels : "");
    }
}
