namespace Profefe.Storage.Postgres.Tests;

public sealed class PostgresStorageOptionsTests
{
    [Fact]
    public void Validate_BadSchema_NamesTheSettingAndItsValue()
    {
        var result = new PostgresStorageOptionsValidator().Validate(null, new PostgresStorageOptions { ConnectionString = "Host=db", Schema = "a;b" });

        Assert.Contains("Storage:Postgres:Schema is \"a;b\"; it must be a plain identifier", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ShortTimeout_NamesTheSettingAndItsValue()
    {
        var result = new PostgresStorageOptionsValidator().Validate(null, new PostgresStorageOptions { ConnectionString = "Host=db", CommandTimeout = TimeSpan.FromMilliseconds(500) });

        Assert.Contains("Storage:Postgres:CommandTimeout is 00:00:00.5000000; it must be at least one second", result.FailureMessage, StringComparison.Ordinal);
    }
}
