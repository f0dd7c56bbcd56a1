namespace Profefe.Storage.Local.Tests;

public sealed class LocalStorageOptionsTests
{
    [Fact]
    public void Validate_BadCount_NamesTheSettingAndItsValue()
    {
        var result = new LocalStorageOptionsValidator().Validate(null, new LocalStorageOptions { ReadConnections = 0 });

        Assert.Contains("Storage:Local:ReadConnections is 0; it must be at least 1", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_RefusesBadOptions_WithTheValidatorsMessage()
    {
        var error = Assert.Throws<ArgumentException>(() => new LocalProfileStorage(new LocalStorageOptions { DataDirectory = " " }));

        Assert.Contains("Storage:Local:DataDirectory must not be empty", error.Message, StringComparison.Ordinal);
    }
}
