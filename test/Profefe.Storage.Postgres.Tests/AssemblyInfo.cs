using Profefe.Testing.Servers;

[assembly: AssemblyFixture(typeof(PostgresServerFixture))]
