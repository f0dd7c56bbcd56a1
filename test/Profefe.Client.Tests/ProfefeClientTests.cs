using System.Net;

namespace Profefe.Client.Tests;

public sealed class ProfefeClientTests
{
    private static readonly DateTimeOffset From = new(2019, 5, 30, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset To = new(2019, 6, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task PushProfileAsync_ReturnsMeta_WhenCollectorAccepts()
    {
        var stub = StubHandler.Json(HttpStatusCode.OK, """{"code":200,"body":{"id":"dc38nn38di192ieigdtg","type":"cpu","service":"svc1","labels":[{"key":"dc","value":"fra"}],"created_at":"2019-05-30T21:10:05Z"}}""" + "\n", "text/plain");
        var client = stub.CreateClient();

        var info = await client.PushProfileAsync("svc1", "cpu", [new ProfileLabel("dc", "fra")], new byte[] { 1, 2, 3 }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("dc38nn38di192ieigdtg", info.Id);
        Assert.Equal("cpu", info.Type);
        Assert.Equal("svc1", info.Service);
        Assert.Equal([new ProfileLabel("dc", "fra")], info.Labels);
        Assert.Equal(new DateTimeOffset(2019, 5, 30, 21, 10, 5, TimeSpan.Zero), info.CreatedAt);
        var request = Assert.Single(stub.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/api/0/profiles", request.RequestUri!.AbsolutePath);
        Assert.Equal("?service=svc1&type=cpu&labels=dc%3Dfra", request.RequestUri.Query);
        Assert.Equal(new byte[] { 1, 2, 3 }, stub.Bodies[0]);
    }

    [Fact]
    public async Task PushProfileAsync_EscapesCommaInLabelValueTwice_SoTheCollectorSplitsCorrectly()
    {
        var stub = StubHandler.Json(HttpStatusCode.OK, """{"code":200,"body":{"id":"dc38nn38di192ieige0g","type":"cpu","service":"svc2","created_at":"2019-05-30T21:10:05Z"}}""");

        await stub.CreateClient().PushProfileAsync("svc2", "cpu", [new ProfileLabel("note", "a,b"), new ProfileLabel("empty", "")], new byte[] { 1 }, new DateTimeOffset(2020, 1, 1, 0, 0, 0, 500, TimeSpan.Zero), TestContext.Current.CancellationToken);

        // The contract's transcript sends note=a%252Cb: the value escaped once, then the whole list once more.
        Assert.Equal("?service=svc2&type=cpu&labels=note%3Da%252Cb%2Cempty%3D&created_at=2020-01-01T00%3A00%3A00", stub.Requests[0].RequestUri!.Query);
    }

    [Fact]
    public async Task PushProfileAsync_ThrowsWithCollectorsErrorText_WhenRejected()
    {
        var stub = StubHandler.Json(HttpStatusCode.BadRequest, """{"code":400,"error":"malformed profile (could not parse pprof profile: parsing profile: unrecognized profile format)"}""" + "\n", "text/plain");

        var e = await Assert.ThrowsAsync<ProfefeApiException>(() => stub.CreateClient().PushProfileAsync("svc", "cpu", null, new byte[] { 1 }, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal("malformed profile (could not parse pprof profile: parsing profile: unrecognized profile format)", e.Message);
        Assert.False(e.IsTransient);
    }

    [Fact]
    public async Task PushProfileAsync_ThrowsTransientError_WhenCollectorUnreachable()
    {
        var stub = new StubHandler(_ => throw new HttpRequestException("Connection refused (collector.test:10100)"));

        var e = await Assert.ThrowsAsync<ProfefeApiException>(() => stub.CreateClient().PushProfileAsync("svc", "cpu", null, new byte[] { 1 }, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal((HttpStatusCode)0, e.StatusCode);
        Assert.True(e.IsTransient);
        Assert.Contains("cannot reach the collector at http://collector.test:10100/", e.Message, StringComparison.Ordinal);
        Assert.Contains("Connection refused", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PushProfileAsync_ThrowsTransientError_WhenCollectorTimesOut()
    {
        // HttpClient reports its own timeout as a cancellation the caller did not ask for.
        var stub = new StubHandler(_ => throw new TaskCanceledException("timed out"));

        var e = await Assert.ThrowsAsync<ProfefeApiException>(() => stub.CreateClient().PushProfileAsync("svc", "cpu", null, new byte[] { 1 }, cancellationToken: TestContext.Current.CancellationToken));

        Assert.True(e.IsTransient);
        Assert.Equal("the collector at http://collector.test:10100/ did not answer within 100s", e.Message);
    }

    [Fact]
    public async Task PushProfileAsync_Cancels_WhenCallerCancels()
    {
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();
        var stub = new StubHandler(_ => throw new TaskCanceledException("cancelled"));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stub.CreateClient().PushProfileAsync("svc", "cpu", null, new byte[] { 1 }, cancellationToken: cancellation.Token));
    }

    [Fact]
    public async Task PushProfileAsync_UsesPlainText_WhenErrorIsNotJson()
    {
        var stub = StubHandler.Json(HttpStatusCode.NotFound, "404 page not found\n", "text/plain");

        var e = await Assert.ThrowsAsync<ProfefeApiException>(() => stub.CreateClient().PushProfileAsync("svc", "cpu", null, new byte[] { 1 }, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal("404 page not found", e.Message);
    }

    [Fact]
    public async Task PushProfileAsync_DescribesStatus_WhenErrorBodyIsEmpty()
    {
        var stub = new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.BadGateway));

        var e = await Assert.ThrowsAsync<ProfefeApiException>(() => stub.CreateClient().PushProfileAsync("svc", "cpu", null, new byte[] { 1 }, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal("502 Bad Gateway", e.Message);
        Assert.True(e.IsTransient);
    }

    [Fact]
    public async Task FindProfilesAsync_SendsQueryInCollectorsLayout()
    {
        var stub = StubHandler.Json(HttpStatusCode.OK, """{"code":200,"body":[{"id":"a","type":"cpu","service":"svc1","created_at":"2019-05-30T21:10:05Z"},{"id":"b","type":"heap","service":"svc1","labels":[{"key":"k","value":"v"}],"created_at":"2019-05-30T21:11:05Z"}]}""");
        var filter = new ProfileFilter
        {
            Service = "svc1",
            Type = "cpu",
            From = From,
            To = new DateTimeOffset(2019, 6, 1, 2, 0, 0, 1, TimeSpan.FromHours(2)),
            Labels = [new ProfileLabel("region", "europe-west3")],
            Limit = 5,
        };

        var found = await stub.CreateClient().FindProfilesAsync(filter, TestContext.Current.CancellationToken);

        Assert.Equal(["a", "b"], found.Select(p => p.Id));
        Assert.Null(found[0].Labels);
        // The upper bound is inclusive, so a fractional second rounds up rather than dropping that second's profiles.
        Assert.Equal("?service=svc1&type=cpu&labels=region%3Deurope-west3&from=2019-05-30T00%3A00%3A00&to=2019-06-01T00%3A00%3A01&limit=5", stub.Requests[0].RequestUri!.Query);
        Assert.Equal("/api/0/profiles", stub.Requests[0].RequestUri!.AbsolutePath);
    }

    [Fact]
    public async Task FindProfilesAsync_ReturnsEmpty_WhenNothingFound()
    {
        var stub = StubHandler.Json(HttpStatusCode.NotFound, """{"code":404,"error":"nothing found"}""" + "\n");

        var found = await stub.CreateClient().FindProfilesAsync(new ProfileFilter { Service = "nope", From = From, To = To }, TestContext.Current.CancellationToken);

        Assert.Empty(found);
    }

    [Fact]
    public async Task FindProfilesAsync_Throws_WhenQueryRejected()
    {
        var stub = StubHandler.Json(HttpStatusCode.BadRequest, """{"code":400,"error":"bad request: missing \"service\""}""");

        var e = await Assert.ThrowsAsync<ProfefeApiException>(() => stub.CreateClient().FindProfilesAsync(new ProfileFilter { Service = "x", From = From, To = To }, TestContext.Current.CancellationToken));

        Assert.Equal("bad request: missing \"service\"", e.Message);
    }

    [Fact]
    public async Task GetProfileAsync_JoinsIdsWithPlus_AndReturnsBytes()
    {
        var stub = new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([0x1f, 0x8b, 8]) });

        var data = await stub.CreateClient().GetProfileAsync(["dc38nn38di192ieigdtg", "dc38nn38di192ieigdu0"], TestContext.Current.CancellationToken);

        Assert.Equal(new byte[] { 0x1f, 0x8b, 8 }, data);
        Assert.Equal("/api/0/profiles/dc38nn38di192ieigdtg+dc38nn38di192ieigdu0", stub.Requests[0].RequestUri!.AbsolutePath);
    }

    [Fact]
    public async Task GetProfileAsync_ThrowsNotFound_WithJsonErrorInOctetStream()
    {
        var stub = StubHandler.Json(HttpStatusCode.NotFound, """{"code":404,"error":"nothing found"}""" + "\n", "application/octet-stream");

        var e = await Assert.ThrowsAsync<ProfefeApiException>(() => stub.CreateClient().GetProfileAsync(["bpc00mript33iv4net00"], TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.Equal("nothing found", e.Message);
    }

    [Fact]
    public async Task MergeProfilesAsync_SendsMergeQuery()
    {
        var stub = new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([1, 2]) });

        var data = await stub.CreateClient("http://collector.test/prefix/").MergeProfilesAsync(new ProfileFilter { Service = "svc1", Type = "heap", From = From, To = To }, TestContext.Current.CancellationToken);

        Assert.Equal(new byte[] { 1, 2 }, data);
        Assert.Equal("http://collector.test/prefix/api/0/profiles/merge?service=svc1&type=heap&from=2019-05-30T00%3A00%3A00&to=2019-06-01T00%3A00%3A00", stub.Requests[0].RequestUri!.AbsoluteUri);
    }

    [Fact]
    public async Task MergeProfilesAsync_Throws_WhenTypeCannotBeMerged()
    {
        var stub = StubHandler.Json(HttpStatusCode.MethodNotAllowed, """{"code":405,"error":"can't merge profiles of trace type"}""", "text/plain");

        var e = await Assert.ThrowsAsync<ProfefeApiException>(() => stub.CreateClient().MergeProfilesAsync(new ProfileFilter { Service = "svc1", Type = "trace", From = From, To = To }, TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, e.StatusCode);
        Assert.Equal("can't merge profiles of trace type", e.Message);
    }

    [Fact]
    public async Task ListServicesAsync_ReturnsServices()
    {
        var stub = StubHandler.Json(HttpStatusCode.OK, """{"code":200,"body":["svc1","svc2"]}""" + "\n");

        var services = await stub.CreateClient().ListServicesAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["svc1", "svc2"], services);
        Assert.Equal("/api/0/services", stub.Requests[0].RequestUri!.AbsolutePath);
    }

    [Fact]
    public async Task ListServicesAsync_ReturnsEmpty_WhenCollectorHasNone()
    {
        var stub = StubHandler.Json(HttpStatusCode.NotFound, """{"code":404,"error":"nothing found"}""");

        Assert.Empty(await stub.CreateClient().ListServicesAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ListServicesAsync_ThrowsReadableError_WhenReplyIsNotJson()
    {
        var stub = StubHandler.Json(HttpStatusCode.OK, "<html>proxy</html>", "text/html");

        var e = await Assert.ThrowsAsync<ProfefeApiException>(() => stub.CreateClient().ListServicesAsync(TestContext.Current.CancellationToken));

        Assert.StartsWith("the collector's reply is not the expected JSON", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_Throws_WhenHttpClientHasNoBaseAddress()
    {
        using var http = new HttpClient();

        Assert.Throws<ArgumentException>(() => new ProfefeClient(http));
    }
}
