using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Profefe.Testing;

namespace Profefe.Cli.Tests.Scrape;

/// <summary>
/// Fake Go programs on one port: /good/debug/pprof/ serves real profiles, /hang/ never answers, /broken/ answers 500.
/// </summary>
internal sealed class StubTargets : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _goodRequests;

    private StubTargets(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    public string Address { get; }

    public int GoodRequests => Volatile.Read(ref _goodRequests);

    public static async Task<StubTargets> StartAsync(CancellationToken cancellationToken)
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var targets = new StubTargets(app, $"http://127.0.0.1:{port}");
        var profiles = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["profile"] = TestData.Read("go/cpu_hash_01.pb.gz"),
            ["heap"] = TestData.Read("go/heap_01.pb.gz"),
            ["goroutine"] = TestData.Read("go/goroutine_01.pb.gz"),
            ["trace"] = TestData.Read("go/trace_01.out"),
        };
        app.MapGet("/good/debug/pprof/{name}", (string name) =>
        {
            Interlocked.Increment(ref targets._goodRequests);
            return profiles.TryGetValue(name, out var data) ? Results.Bytes(data, "application/octet-stream") : Results.NotFound();
        });
        app.MapGet("/hang/debug/pprof/{name}", async (HttpContext context) =>
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        });
        app.MapGet("/broken/debug/pprof/{name}", () => Results.Text("Could not enable CPU profiling: boom\n", statusCode: 500));
        await app.StartAsync(cancellationToken);
        return targets;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
