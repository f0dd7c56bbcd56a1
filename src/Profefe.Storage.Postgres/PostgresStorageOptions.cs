namespace Profefe.Storage.Postgres;

/// <summary>Configuration section "Storage:Postgres": the PostgreSQL index (and, alone, the profile bytes too).</summary>
public sealed class PostgresStorageOptions
{
    public const string SectionName = "Storage:Postgres";

    /// <summary>Npgsql connection string, e.g. "Host=db;Database=profefe;Username=profefe;Password=…".</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>Schema holding the tables; created when missing. Lets several collectors' data share one database.</summary>
    public string Schema { get; set; } = "public";

    /// <summary>Bound on every statement, so a stuck server turns into a 503 instead of a hanging request.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Bound on opening a connection.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Profiles deleted per retention transaction, so writes never wait behind one huge delete.</summary>
    public int RetentionBatchProfiles { get; set; } = 500;

    /// <summary>Profiles fetched per query when reading many by id (merges), bounding memory per round trip.</summary>
    public int ReadBatchProfiles { get; set; } = 32;

    internal string? Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            return "Storage:Postgres:ConnectionString must be set";
        }

        if (string.IsNullOrWhiteSpace(Schema))
        {
            return "Storage:Postgres:Schema must not be empty";
        }

        if (CommandTimeout < TimeSpan.FromSeconds(1) || ConnectTimeout < TimeSpan.FromSeconds(1))
        {
            return "Storage:Postgres: CommandTimeout and ConnectTimeout must be at least one second";
        }

        if (RetentionBatchProfiles < 1 || ReadBatchProfiles < 1)
        {
            return "Storage:Postgres: RetentionBatchProfiles and ReadBatchProfiles must be at least 1";
        }

        return null;
    }
}
