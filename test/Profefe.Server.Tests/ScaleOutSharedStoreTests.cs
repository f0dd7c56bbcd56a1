using System.Collections.Concurrent;
using System.Net;
using Profefe.Testing;
using Profefe.Testing.Servers;

namespace Profefe.Server.Tests;

/// <summary>
/// Scale-out: two <c>profefe serve</c> processes on different ports share one database (and bucket); four writers
/// push to both at once, then each collector finds, downloads and merges every profile either one acknowledged.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
[Collection(StoragePostgresTests.Name)]
public sealed class ScaleOutSharedStoreTests(PostgresServerFixture fixture, CephRgwServerFixture ceph) : IClassFixture<CephRgwServerFixture>
{
    private const int Writers = 4;
    private const int PushesPerWriter = 30;
    private const string Service = "scaleout";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("postgres")]
    [InlineData("s3+postgres")]
    public async Task TwoCollectorProcesses_SharingOneStore_BothServeEveryAcknowledgedProfile(string storageType)
    {
        await using var schema = new PostgresTestSchema(fixture.Require());
        var settings = await ScaleOutStores.ForAsync(storageType, schema, ceph.Require);
        var workingDirectory = Directory.CreateTempSubdirectory("profefe-scaleout-").FullName;
        try
        {
            using var first = await ServeProcess.StartListeningAsync(settings, workingDirectory, Token);
            using var second = await ServeProcess.StartListeningAsync(settings, workingDirectory, Token);
            ServeProcess[] collectors = [first, second];
            var acknowledged = new ConcurrentDictionary<string, Upload>(StringComparer.Ordinal);

            await Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
            {
                for (var i = 0; i < PushesPerWriter; i++)
                {
                    var collector = collectors[(writer + i) % collectors.Length];
                    var upload = ScaleOutTraffic.Uploads[(writer + i) % ScaleOutTraffic.Uploads.Length];
                    using var push = await ScaleOutTraffic.PushAsync(collector.Client, Service, upload, $"writer={writer},seq={i}", Token);
                    Assert.True(push.StatusCode == HttpStatusCode.OK, $"push answered {(int)push.StatusCode}: {await push.Content.ReadAsStringAsync(Token)} {collector.Output}");
                    ScaleOutTraffic.Acknowledge(acknowledged, await ScaleOutTraffic.IdOfAsync(push, Token), upload);
                }
            }, Token)));

            Assert.Equal(Writers * PushesPerWriter, acknowledged.Count);
            foreach (var collector in collectors)
            {
                await ScaleOutTraffic.VerifyAsync(collector.Client, Service, acknowledged, Token);
                foreach (var type in new[] { "cpu", "heap" })
                {
                    var expected = acknowledged.Values.Where(u => u.Type == type).Sum(u => u.Total);
                    Assert.Equal(expected, await ScaleOutTraffic.MergedTotalAsync(collector.Client, Service, type, Token));
                }

                using var services = await collector.Client.GetAsync("api/0/services", Token);
                Assert.Equal("{\"code\":200,\"body\":[\"scaleout\"]}\n", await services.Content.ReadAsStringAsync(Token));
            }
        }
        finally
        {
            Directory.Delete(workingDirectory, recursive: true);
        }
    }
}
