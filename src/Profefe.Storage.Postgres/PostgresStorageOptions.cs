using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Profefe.Core.Settings;

namespace Profefe.Storage.Postgres;

/// <summary>Configuration section "Storage:Postgres": the PostgreSQL index (and, alone, the profile bytes too).</summary>
public sealed class PostgresStorageOptions : IValidatableObject
{
    public const string SectionName = "Storage:Postgres";

    /// <summary>Npgsql connection string, e.g. "Host=db;Database=profefe;Username=profefe;Password=…".</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Storage:Postgres:ConnectionString must be set")]
    public string ConnectionString { get; set; } = "";

    /// <summary>Schema holding the tables; created when missing. Lets several collectors' data share one database.</summary>
    public string Schema { get; set; } = "public";

    /// <summary>Bound on every statement, so a stuck server turns into a 503 instead of a hanging request.</summary>
    [SettingRange("Storage:Postgres:CommandTimeout", typeof(TimeSpan), "00:00:01", "10675199.02:48:05.4775807", Must = "at least one second")]
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Bound on opening a connection.</summary>
    [SettingRange("Storage:Postgres:ConnectTimeout", typeof(TimeSpan), "00:00:01", "10675199.02:48:05.4775807", Must = "at least one second")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Profiles deleted per retention transaction, so writes never wait behind one huge delete.</summary>
    [SettingRange("Storage:Postgres:RetentionBatchProfiles", 1, int.MaxValue)]
    public int RetentionBatchProfiles { get; set; } = 500;

    /// <summary>Profiles fetched per query when reading many by id (merges), bounding memory per round trip.</summary>
    [SettingRange("Storage:Postgres:ReadBatchProfiles", 1, int.MaxValue)]
    public int ReadBatchProfiles { get; set; } = 32;

    /// <summary>The schema must be one plain identifier: it is put into SQL text.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!PostgresSchema.IsValidSchemaName(Schema))
        {
            yield return new ValidationResult($"Storage:Postgres:Schema is \"{Schema}\"; it must be a plain identifier (letters, digits, _)", [nameof(Schema)]);
        }
    }
}

/// <summary>Checks <see cref="PostgresStorageOptions"/> (generated from its annotations); the store checks with it too.</summary>
[OptionsValidator]
public sealed partial class PostgresStorageOptionsValidator : IValidateOptions<PostgresStorageOptions>;
