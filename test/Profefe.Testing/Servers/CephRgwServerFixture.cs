namespace Profefe.Testing.Servers;

/// <summary>
/// One Ceph RGW per test assembly (register with [assembly: AssemblyFixture(typeof(CephRgwServerFixture))]).
/// Tests share it and isolate themselves by bucket (<see cref="CephRgwServer.CreateBucketAsync"/>).
/// </summary>
public sealed class CephRgwServerFixture() : ExternalServerFixture<CephRgwServer>("Ceph RGW", CephRgwServer.StartAsync);
