namespace Profefe.Testing.Servers;

/// <summary>One PostgreSQL server per test assembly (register with [assembly: AssemblyFixture(typeof(PostgresServerFixture))]).</summary>
public sealed class PostgresServerFixture() : ExternalServerFixture<PostgresServer>("PostgreSQL", PostgresServer.StartAsync);
