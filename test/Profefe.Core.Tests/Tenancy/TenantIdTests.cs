using Profefe.Core.Tenancy;

namespace Profefe.Core.Tests.Tenancy;

public sealed class TenantIdTests
{
    [Theory]
    [InlineData("anonymous")]
    [InlineData("team-a_1.prod")]
    [InlineData("a!b*c'd(e)")]
    public void TryParse_Accepts_CortexTenantIds(string text)
    {
        Assert.True(TenantId.TryParse(text, out var tenant, out _));
        Assert.Equal(text, tenant.Value);
        Assert.Equal(TenantId.Parse(text), tenant);
    }

    [Theory]
    [InlineData("", "tenant id is empty")]
    [InlineData(".", "tenant id must not be \".\" or \"..\"")]
    [InlineData("..", "tenant id must not be \".\" or \"..\"")]
    [InlineData("a/b", "tenant id may only hold ASCII letters, digits and ! - _ . * ' ( )")]
    [InlineData("nul\0", "tenant id may only hold ASCII letters, digits and ! - _ . * ' ( )")]
    [InlineData("é", "tenant id may only hold ASCII letters, digits and ! - _ . * ' ( )")]
    public void TryParse_Refuses_WithTheReason(string text, string reason)
    {
        Assert.False(TenantId.TryParse(text, out _, out var error));
        Assert.Equal(reason, error);
    }

    [Fact]
    public void TryParse_RefusesMoreThan150Characters()
    {
        Assert.True(TenantId.TryParse(new string('a', 150), out _, out _));
        Assert.False(TenantId.TryParse(new string('a', 151), out _, out var error));
        Assert.Equal("tenant id is longer than 150 characters", error);
    }

    [Fact]
    public void Default_IsAnonymous_AndSoIsTheDefaultValue()
    {
        Assert.Equal("anonymous", TenantId.Default.Value);
        Assert.Equal(TenantId.Default.Value, default(TenantId).Value);
    }

    [Fact]
    public void Default_EqualsTheDefaultValue_AndParsedAnonymous()
    {
        Assert.Equal(TenantId.Default, default);
        Assert.Equal(TenantId.Default, TenantId.Parse("anonymous"));
        Assert.Equal(TenantId.Default.GetHashCode(), default(TenantId).GetHashCode());
        Assert.NotEqual(TenantId.Default, TenantId.Parse("team-a"));
    }

    [Fact]
    public void Key_IsEmptyForTheDefaultTenant_SoDataStoredBeforeTenantsIsItsOwn()
    {
        Assert.Equal("", TenantId.Default.Key);
        Assert.Equal("", default(TenantId).Key);
        Assert.Equal("team-a", TenantId.Parse("team-a").Key);
        Assert.Equal(TenantId.Default, TenantId.FromKey(""));
        Assert.Equal(TenantId.Parse("team-a"), TenantId.FromKey("team-a"));
    }
}
