using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Profefe.Core.Storage;

namespace Profefe.Storage.S3.Tests;

public sealed class S3StorageOptionsTests
{
    [Fact]
    public void Validate_Defaults_WithBucket_AreValid()
    {
        var options = new S3StorageOptions { Bucket = "b" };

        Assert.True(new S3StorageOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(S3ChecksumMode.WhenRequired, options.ChecksumMode);
    }

    [Theory]
    [InlineData("Bucket")]
    [InlineData("ServiceUrl")]
    [InlineData("AccessKey")]
    [InlineData("Timeout")]
    [InlineData("MaxConcurrentRequests")]
    [InlineData("OrphanMinAge")]
    public void Validate_BadSetting_NamesIt(string setting)
    {
        var options = new S3StorageOptions { Bucket = "b" };
        switch (setting)
        {
            case "Bucket": options.Bucket = " "; break;
            case "ServiceUrl": options.ServiceUrl = "not a url"; break;
            case "AccessKey": options.AccessKey = "only-the-access-key"; break;
            case "Timeout": options.Timeout = TimeSpan.FromMilliseconds(10); break;
            case "MaxConcurrentRequests": options.MaxConcurrentRequests = 0; break;
            case "OrphanMinAge": options.OrphanMinAge = TimeSpan.FromSeconds(-1); break;
        }

        var result = new S3StorageOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Storage:S3:" + setting, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadTimeout_NamesTheSettingAndItsValue()
    {
        var options = new S3StorageOptions { Bucket = "b", Timeout = TimeSpan.FromMilliseconds(10) };

        var result = new S3StorageOptionsValidator().Validate(null, options);

        Assert.Contains("Storage:S3:Timeout is 00:00:00.0100000; it must be at least one second", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_WhenRequired_TurnsOffTheSdksDefaultChecksums()
    {
        using var client = S3ClientFactory.Create(new S3StorageOptions { Bucket = "b", ServiceUrl = "http://127.0.0.1:9", AccessKey = "a", SecretKey = "s", ForcePathStyle = true, MaxErrorRetry = 4 });

        var config = Assert.IsType<AmazonS3Config>(client.Config);
        Assert.Equal(RequestChecksumCalculation.WHEN_REQUIRED, config.RequestChecksumCalculation);
        Assert.Equal(ResponseChecksumValidation.WHEN_REQUIRED, config.ResponseChecksumValidation);
        Assert.True(config.ForcePathStyle);
        Assert.Equal(4, config.MaxErrorRetry);
    }

    [Fact]
    public void ToUnavailable_ServiceError_NamesS3TheCodeAndTheBucket()
    {
        var error = new AmazonS3Exception("The specified bucket does not exist") { ErrorCode = "NoSuchBucket", StatusCode = HttpStatusCode.NotFound };

        var unavailable = S3Errors.ToUnavailable(error, "profiles", CancellationToken.None);

        Assert.NotNull(unavailable);
        Assert.Equal("s3", unavailable.Dependency);
        Assert.Contains("NoSuchBucket (HTTP 404) on bucket profiles", unavailable.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToUnavailable_SdkTimeout_IsUnavailable_ButTheCallersCancellationIsNot()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.Equal("s3", S3Errors.ToUnavailable(new TaskCanceledException(), "b", CancellationToken.None)?.Dependency);
        Assert.Null(S3Errors.ToUnavailable(new OperationCanceledException(cancelled.Token), "b", cancelled.Token));
        Assert.Null(S3Errors.ToUnavailable(new InvalidOperationException("a bug"), "b", CancellationToken.None));
    }

    [Fact]
    public void ToUnavailable_AlreadyUnavailable_IsKept()
    {
        var original = new StorageUnavailableException("s3", "s3: down", null);

        Assert.Same(original, S3Errors.ToUnavailable(original, "b", CancellationToken.None));
    }

    [Fact]
    public async Task ToUnavailable_ExpiredDeadline_SaysTimedOutAfterTheLimit_ButTheCallersCancellationIsNot()
    {
        using var deadline = new S3RequestDeadline(TimeSpan.FromMilliseconds(1), CancellationToken.None);
        while (!deadline.Expired)
        {
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        var unavailable = S3Errors.ToUnavailable(new TaskCanceledException(), "profiles", CancellationToken.None, deadline);

        Assert.Equal("s3", unavailable?.Dependency);
        Assert.Contains("request to bucket profiles timed out after 0.001 s", unavailable?.Message, StringComparison.Ordinal);

        using var caller = new CancellationTokenSource();
        using var callersDeadline = new S3RequestDeadline(TimeSpan.FromMinutes(1), caller.Token);
        await caller.CancelAsync();
        Assert.False(callersDeadline.Expired);
        Assert.Null(S3Errors.ToUnavailable(new OperationCanceledException(caller.Token), "profiles", caller.Token, callersDeadline));
    }

    [Fact]
    public void EffectiveTimeouts_Defaults_BoundEveryRetryAndStayUnderTheHealthCheck()
    {
        var options = new S3StorageOptions { Bucket = "b", Timeout = TimeSpan.FromSeconds(10), MaxErrorRetry = 1 };
        options.DeriveReadinessTimeout("00:00:03");

        Assert.Equal(TimeSpan.FromSeconds(22), options.EffectiveOperationTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2.4), options.EffectiveReadinessTimeout);

        options.OperationTimeout = TimeSpan.FromSeconds(7);
        Assert.Equal(TimeSpan.FromSeconds(7), options.EffectiveOperationTimeout);
    }
}
