using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;
using Profefe.Testing;

namespace Profefe.Storage.Local.Tests;

[Trait(TestCategory.Name, TestCategory.Chaos)]
public sealed class LocalProfileStorageCrashTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WriteBurst_KilledWithSigkill_KeepsEveryAcknowledgedProfileAndNothingHalfWritten()
    {
        await using var directory = new LocalStoreDirectory();
        var acknowledged = new HashSet<ProfileId>();
        for (var round = 0; round < 3; round++)
        {
            var acks = await RunWriterUntilKilledAsync(directory.Path, killAfterAcks: 150 + (round * 100));
            Assert.True(acks.Count >= 150, $"round {round}: only {acks.Count} acknowledged writes before the kill");
            acknowledged.UnionWith(acks);

            await using var storage = new LocalProfileStorage(directory.Options());
            var stored = new Dictionary<ProfileId, StoredProfile>();
            var all = await storage.FindProfilesAsync(TenantId.Default, new ProfileQuery(CrashWriter.Service, null, [], DateTime.MinValue, DateTime.MaxValue), Token);
            await foreach (var profile in storage.ListProfilesAsync(TenantId.Default, [.. all.Select(m => m.ProfileId)], Token))
            {
                stored.Add(profile.Meta.ProfileId, profile);
            }

            foreach (var id in acknowledged)
            {
                Assert.True(stored.TryGetValue(id, out var profile), $"round {round}: acknowledged profile {id} is missing");
                Assert.Equal(CrashWriter.DataFor(id), profile.Data.ToArray());
            }

            // Unacknowledged writes may or may not have landed, but whatever is there is whole.
            foreach (var (id, profile) in stored)
            {
                Assert.Equal(CrashWriter.DataFor(id), profile.Data.ToArray());
            }

            Assert.Equal(stored.Count, (await storage.GetStatisticsAsync(Token)).ProfileCount);
        }

        using var check = new SqliteConnection($"Data Source={Path.Combine(directory.Path, LocalProfileStorage.DatabaseFileName)};Pooling=False");
        check.Open();
        using var command = check.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", command.ExecuteScalar());
    }

    private static async Task<List<ProfileId>> RunWriterUntilKilledAsync(string directory, int killAfterAcks)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(typeof(CrashWriter).Assembly.Location);
        start.Environment[CrashWriter.DirectoryVariable] = directory;

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the writer process");
        var acks = new List<ProfileId>();
        var killed = false;
        // A guard against a writer that hangs, not a timing assertion: it normally finishes in seconds.
        using var hang = CancellationTokenSource.CreateLinkedTokenSource(Token);
        hang.CancelAfter(TimeSpan.FromMinutes(3));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(hang.Token) is { } line)
            {
                if (line.StartsWith("ack ", StringComparison.Ordinal))
                {
                    acks.Add(ProfileId.Parse(line[4..]));
                    if (acks.Count == killAfterAcks && !killed)
                    {
                        // SIGKILL mid-burst: the writer is committing batches from 8 tasks right now.
                        process.Kill();
                        killed = true;
                    }
                }
            }
        }
        finally
        {
            if (!killed && !process.HasExited)
            {
                process.Kill();
            }

            await process.WaitForExitAsync(CancellationToken.None);
        }

        Assert.True(killed, $"the writer process ended by itself: {await process.StandardError.ReadToEndAsync(Token)}");
        return acks;
    }
}
