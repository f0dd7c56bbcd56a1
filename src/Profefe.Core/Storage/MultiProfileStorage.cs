using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Profefe.Core.Profiles;
using Profefe.Core.Tenancy;

namespace Profefe.Core.Storage;

/// <summary>
/// Several backends at once, as profefe's <c>-storage-type=badger,s3</c>: every write goes to all of them,
/// reads come from the first, retention runs on all.
/// </summary>
/// <remarks>
/// A write is acknowledged only when every backend stored it. When one fails the request fails with that
/// backend's error (a 503 naming its dependency when it is unavailable), as profefe's multi-writer returns the
/// error; the backends that succeeded keep the profile, so after a retry they may hold it twice under two ids.
/// Nothing is rolled back: a delete could fail just the same, and a copy too many is harmless where a lost
/// acknowledged profile is not.
/// </remarks>
public sealed class MultiProfileStorage : IProfileWriter, IProfileReader, IProfileRetention, IProfileStorageReadiness
{
    private readonly ProfileStorageBackend[] _backends;
    private readonly ILogger _logger;

    public MultiProfileStorage(IEnumerable<ProfileStorageBackend> backends, ILogger<MultiProfileStorage>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(backends);
        _backends = [.. backends];
        if (_backends.Length == 0)
        {
            throw new ArgumentException("at least one storage backend is needed", nameof(backends));
        }

        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public IReadOnlyList<ProfileStorageBackend> Backends => _backends;

    /// <summary>The backend reads and statistics come from.</summary>
    public ProfileStorageBackend Primary => _backends[0];

    public async Task WriteProfileAsync(ProfileMeta meta, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(meta);

        // In parallel: the request waits for the slowest backend, not for their sum.
        var writes = new Task[_backends.Length];
        for (var i = 0; i < _backends.Length; i++)
        {
            writes[i] = WriteOneAsync(_backends[i].Writer, meta, data, cancellationToken);
        }

        try
        {
            await Task.WhenAll(writes).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            ExceptionDispatchInfo.Throw(Failure(meta, writes));
        }
    }

    public Task<IReadOnlyList<ProfileMeta>> FindProfilesAsync(TenantId tenant, ProfileQuery query, CancellationToken cancellationToken) =>
        Primary.Reader.FindProfilesAsync(tenant, query, cancellationToken);

    public IAsyncEnumerable<StoredProfile> ListProfilesAsync(TenantId tenant, IReadOnlyList<ProfileId> ids, CancellationToken cancellationToken) =>
        Primary.Reader.ListProfilesAsync(tenant, ids, cancellationToken);

    public Task<IReadOnlyList<string>> ListServicesAsync(TenantId tenant, CancellationToken cancellationToken) =>
        Primary.Reader.ListServicesAsync(tenant, cancellationToken);

    public Task<IReadOnlyList<LabelValues>> ListLabelsAsync(TenantId tenant, string? service, CancellationToken cancellationToken) =>
        Primary.Reader.ListLabelsAsync(tenant, service, cancellationToken);

    /// <summary>
    /// Runs retention on every backend, even when one fails (that failure is thrown afterwards, so the retention
    /// service logs it and retries); returns how many profiles went from the first.
    /// </summary>
    public async Task<int> DeleteProfilesStoredBeforeAsync(DateTime cutoff, CancellationToken cancellationToken)
    {
        var deleted = 0;
        ExceptionDispatchInfo? failure = null;
        for (var i = 0; i < _backends.Length; i++)
        {
            try
            {
                var count = await _backends[i].Retention.DeleteProfilesStoredBeforeAsync(cutoff, cancellationToken).ConfigureAwait(false);
                if (i == 0)
                {
                    deleted = count;
                }
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                Log.MultiRetentionFailed(_logger, _backends[i].Name, exception);
                failure ??= ExceptionDispatchInfo.Capture(exception);
            }
        }

        failure?.Throw();
        return deleted;
    }

    /// <summary>Ready when every backend is: a write needs them all.</summary>
    public async Task CheckReadyAsync(CancellationToken cancellationToken)
    {
        var checks = new Task[_backends.Length];
        for (var i = 0; i < _backends.Length; i++)
        {
            checks[i] = _backends[i].CheckReadyAsync(cancellationToken);
        }

        try
        {
            await Task.WhenAll(checks).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            ExceptionDispatchInfo.Throw(Combine(checks));
        }
        catch (OperationCanceledException)
        {
            // The caller's timeout: name the backends that had not answered, which a bare cancellation would not.
            var silent = new List<string>();
            for (var i = 0; i < checks.Length; i++)
            {
                if (checks[i].IsCanceled)
                {
                    silent.Add(_backends[i].Name);
                }
            }

            if (silent.Count == 0)
            {
                throw;
            }

            var names = string.Join(",", silent);
            throw new StorageUnavailableException(names, $"{names}: no answer in time", null);
        }
    }

    private static async Task WriteOneAsync(IProfileWriter writer, ProfileMeta meta, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        // Yield first so a backend that does synchronous work before its first await does not hold up the others.
        await Task.Yield();
        await writer.WriteProfileAsync(meta, data, cancellationToken).ConfigureAwait(false);
    }

    private Exception Failure(ProfileMeta meta, Task[] writes)
    {
        var stored = new List<string>();
        for (var i = 0; i < writes.Length; i++)
        {
            if (writes[i].IsCompletedSuccessfully)
            {
                stored.Add(_backends[i].Name);
            }
        }

        var storedIn = stored.Count == 0 ? "none" : string.Join(", ", stored);
        for (var i = 0; i < writes.Length; i++)
        {
            if (writes[i].Exception?.InnerException is { } exception)
            {
                Log.MultiWriteFailed(_logger, meta.ProfileId.ToString(), _backends[i].Name, storedIn, exception);
            }
        }

        return Combine(writes);
    }

    /// <summary>
    /// One exception for the failed tasks: a bug (anything but unavailability) wins as it is, so it stays a 500;
    /// a single unavailable dependency is thrown as it is; several become one 503 naming them all.
    /// </summary>
    private static Exception Combine(Task[] tasks)
    {
        var unavailable = new List<StorageUnavailableException>();
        for (var i = 0; i < tasks.Length; i++)
        {
            switch (tasks[i].Exception?.InnerException)
            {
                case null:
                    break;
                case StorageUnavailableException e:
                    unavailable.Add(e);
                    break;
                case var other:
                    return other;
            }
        }

        if (unavailable.Count == 1)
        {
            return unavailable[0];
        }

        var dependencies = new List<string>(unavailable.Count);
        var messages = new List<string>(unavailable.Count);
        foreach (var e in unavailable)
        {
            if (!dependencies.Contains(e.Dependency))
            {
                dependencies.Add(e.Dependency);
            }

            messages.Add(e.Message);
        }

        return new StorageUnavailableException(string.Join(",", dependencies), string.Join("; ", messages), new AggregateException(unavailable));
    }
}
