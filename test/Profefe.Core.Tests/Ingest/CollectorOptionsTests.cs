using Profefe.Core.Ingest;

namespace Profefe.Core.Tests.Ingest;

public sealed class CollectorOptionsTests
{
    [Fact]
    public void Validate_Defaults_AreValid() => Assert.True(new CollectorOptionsValidator().Validate(null, new CollectorOptions()).Succeeded);

    [Fact]
    public void Validate_BadLimit_NamesTheSettingAndItsValue()
    {
        var result = new CollectorOptionsValidator().Validate(null, new CollectorOptions { MaxBodyBytes = 0, QueryTimeout = TimeSpan.Zero });

        Assert.Contains("Collector:MaxBodyBytes is 0; it must be at least 1", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Collector:QueryTimeout is 00:00:00; it must be positive", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadTenantBurst_NamesTheTenantsKey()
    {
        var options = new CollectorOptions();
        options.Tenants["acme"] = new TenantIngestLimits { IngestBurst = 0 };

        var result = new CollectorOptionsValidator().Validate(null, options);

        Assert.Contains("Collector:Tenants:acme:IngestBurst is 0; it must be at least 1", result.FailureMessage, StringComparison.Ordinal);
    }
}
