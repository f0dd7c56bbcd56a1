using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Profefe.Agent.Upload;
using Profefe.Client;

namespace Profefe.Agent.Tests;

public sealed class UploadQueueTests
{
    [Fact]
    public void RetryDelay_DoublesFromFiveSecondsUpToTwoMinutes_WithDefaults()
    {
        var options = new ProfefeAgentOptions();
        var delays = Enumerable.Range(1, 9).Select(a => UploadQueue.RetryDelay(a, options.InitialRetryDelay, options.MaxRetryDelay).TotalSeconds);
        Assert.Equal([5, 10, 20, 40, 80, 120, 120, 120, 120], delays);
        Assert.Equal(10, options.MaxUploadAttempts);
    }

    [Fact]
    public void Enqueue_DropsTheOldest_WhenFull()
    {
        using var queue = NewQueue(2, (_, _) => Task.FromResult("id"));
        queue.Enqueue(Profile("a"));
        queue.Enqueue(Profile("b"));
        queue.Enqueue(Profile("c"));

        Assert.Equal(2, queue.Count);
        Assert.Equal(1, queue.Dropped);
    }

    [Fact]
    public async Task RunAsync_RetriesUntilUploaded_WhenTheCollectorFailsTransiently()
    {
        var attempts = 0;
        var uploaded = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var queue = NewQueue(4, (profile, _) =>
        {
            if (++attempts < 3)
            {
                throw new ProfefeApiException(HttpStatusCode.ServiceUnavailable, "down");
            }

            uploaded.SetResult(profile.Type);
            return Task.FromResult("id");
        });
        using var stop = new CancellationTokenSource();
        var run = queue.RunAsync(stop.Token);
        queue.Enqueue(Profile("cpu"));

        Assert.Equal("cpu", await uploaded.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.Equal(3, attempts);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task RunAsync_GivesUpAfterMaxAttempts_WhenTheCollectorStaysDown()
    {
        var attempts = new ConcurrentQueue<string>();
        var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var queue = NewQueue(4, (profile, _) =>
        {
            attempts.Enqueue(profile.Type);
            if (profile.Type == "next")
            {
                next.TrySetResult();
                return Task.FromResult("id");
            }

            throw new HttpRequestException("connection refused");
        }, maxAttempts: 4);
        using var stop = new CancellationTokenSource();
        var run = queue.RunAsync(stop.Token);
        queue.Enqueue(Profile("cpu"));
        queue.Enqueue(Profile("next"));

        await next.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(["cpu", "cpu", "cpu", "cpu", "next"], attempts);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task RunAsync_DropsWithoutRetrying_WhenTheCollectorRejectsTheProfile()
    {
        var attempts = 0;
        var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var queue = NewQueue(4, (profile, _) =>
        {
            attempts++;
            if (profile.Type == "next")
            {
                next.TrySetResult();
                return Task.FromResult("id");
            }

            throw new ProfefeApiException(HttpStatusCode.BadRequest, "malformed profile");
        });
        using var stop = new CancellationTokenSource();
        var run = queue.RunAsync(stop.Token);
        queue.Enqueue(Profile("cpu"));
        queue.Enqueue(Profile("next"));

        await next.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(2, attempts);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task DrainAsync_UploadsWhatIsLeft_WhenStopping()
    {
        var uploaded = new ConcurrentQueue<string>();
        using var queue = NewQueue(4, (profile, _) =>
        {
            uploaded.Enqueue(profile.Type);
            return Task.FromResult("id");
        });
        queue.Enqueue(Profile("cpu"));
        queue.Enqueue(Profile("heap"));

        await queue.DrainAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["cpu", "heap"], uploaded);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task DrainAsync_AbandonsTheRest_WhenTheCollectorIsDown()
    {
        var attempts = 0;
        using var queue = NewQueue(4, (_, _) =>
        {
            attempts++;
            throw new HttpRequestException("connection refused");
        });
        queue.Enqueue(Profile("cpu"));
        queue.Enqueue(Profile("heap"));

        await queue.DrainAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, attempts);
        Assert.Equal(0, queue.Count);
    }

    private static UploadQueue NewQueue(int capacity, ProfileUploader upload, int maxAttempts = 10) =>
        new(capacity, upload, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(4), maxAttempts, TimeProvider.System, NullLogger.Instance);

    private static PendingProfile Profile(string type) => new(type, [], [1, 2, 3], DateTimeOffset.UnixEpoch);
}
