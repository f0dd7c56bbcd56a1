using Profefe.Testing.Servers;

[assembly: AssemblyFixture(typeof(CephRgwServerFixture))]
