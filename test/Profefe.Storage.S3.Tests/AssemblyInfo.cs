using Profefe.Testing.Servers;

[assembly: AssemblyFixture(typeof(CephRgwServerFixture))]
[assembly: AssemblyFixture(typeof(PostgresServerFixture))]
