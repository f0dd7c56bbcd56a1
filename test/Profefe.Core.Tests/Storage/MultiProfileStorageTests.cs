using Profefe.Core.Profiles;
using Profefe.Core.Storage;
using Profefe.Core.Tenancy;

namespace Profefe.Core.Tests.Storage;

public sealed class MultiProfileStorageTests
{
    private static readonly DateTime Now = new(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WriteProfile_StoresInEveryBackend_WhenAllSucceed()
    {
        var (first, second) = (new FakeBackend("local"), new FakeBackend("postgres"));
        var storage = new MultiProfileStorage([first.Backend, second.Backend]);
        var meta = Meta();

        await storage.WriteProfileAsync(meta, new byte[] { 1, 2, 3 }, Cancel);

        Assert.Equal([1, 2, 3], Assert.Single(first.Store.Profiles).Data.ToArray());
        Assert.Equal(meta, Assert.Single(second.Store.Profiles).Meta);
    }

    [Fact]
    public async Task WriteProfile_ThrowsTheFailingBackendsUnavailability_AndTheOthersKeepTheProfile()
    {
        var (first, second) = (new FakeBackend("local"), new FakeBackend("postgres") { WriteFailure = Unavailable("postgres") });
        var storage = new MultiProfileStorage([first.Backend, second.Backend]);

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.WriteProfileAsync(Meta(), new byte[] { 1 }, Cancel));

        Assert.Same(second.WriteFailure, error);
        Assert.Single(first.Store.Profiles);
        Assert.Empty(second.Store.Profiles);
    }

    [Fact]
    public async Task WriteProfile_NamesEveryUnavailableDependency_WhenSeveralFail()
    {
        var storage = new MultiProfileStorage([
            new FakeBackend("s3+postgres") { WriteFailure = Unavailable("s3") }.Backend,
            new FakeBackend("postgres") { WriteFailure = Unavailable("postgres") }.Backend,
        ]);

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.WriteProfileAsync(Meta(), new byte[] { 1 }, Cancel));

        Assert.Equal("s3,postgres", error.Dependency);
        Assert.Contains("s3 is down", error.Message, StringComparison.Ordinal);
        Assert.Contains("postgres is down", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteProfile_ThrowsABugAsItIs_EvenWhenAnotherBackendIsUnavailable()
    {
        var bug = new InvalidOperationException("bug");
        var storage = new MultiProfileStorage([
            new FakeBackend("local") { WriteFailure = Unavailable("local") }.Backend,
            new FakeBackend("postgres") { WriteFailure = bug }.Backend,
        ]);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => storage.WriteProfileAsync(Meta(), new byte[] { 1 }, Cancel));

        Assert.Same(bug, error);
    }

    [Fact]
    public async Task Reads_ComeFromTheFirstBackendOnly()
    {
        var (first, second) = (new FakeBackend("local"), new FakeBackend("postgres"));
        var storage = new MultiProfileStorage([first.Backend, second.Backend]);
        var onlyInSecond = Meta("other");
        await second.Store.WriteProfileAsync(onlyInSecond, new byte[] { 9 }, Cancel);
        var both = Meta();
        await storage.WriteProfileAsync(both, new byte[] { 1 }, Cancel);

        Assert.Equal(["api"], await storage.ListServicesAsync(TenantId.Default, Cancel));
        Assert.Empty(await storage.FindProfilesAsync(TenantId.Default, new ProfileQuery("other", null, [], DateTime.MinValue, DateTime.MaxValue), Cancel));
        var listed = new List<StoredProfile>();
        await foreach (var stored in storage.ListProfilesAsync(TenantId.Default, [onlyInSecond.ProfileId, both.ProfileId], Cancel))
        {
            listed.Add(stored);
        }

        Assert.Equal(both, Assert.Single(listed).Meta);
    }

    [Fact]
    public async Task DeleteProfilesStoredBefore_RunsOnEveryBackend_ThenThrowsTheFirstFailure()
    {
        var failure = Unavailable("local");
        var (first, second) = (new FakeBackend("local") { RetentionFailure = failure }, new FakeBackend("postgres"));
        var storage = new MultiProfileStorage([first.Backend, second.Backend]);

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.DeleteProfilesStoredBeforeAsync(Now, Cancel));

        Assert.Same(failure, error);
        Assert.Equal([Now], first.RetentionCutoffs);
        Assert.Equal([Now], second.RetentionCutoffs);
    }

    [Fact]
    public async Task DeleteProfilesStoredBefore_ReturnsTheFirstBackendsCount()
    {
        var storage = new MultiProfileStorage([
            new FakeBackend("local") { RetentionDeletes = 3 }.Backend,
            new FakeBackend("postgres") { RetentionDeletes = 5 }.Backend,
        ]);

        Assert.Equal(3, await storage.DeleteProfilesStoredBeforeAsync(Now, Cancel));
    }

    [Fact]
    public async Task CheckReady_NamesTheBackendThatFails_EvenWhenItIsNotTheFirst()
    {
        var storage = new MultiProfileStorage([
            new FakeBackend("local").Backend,
            new FakeBackend("postgres") { ReadFailure = new TimeoutException("no answer") }.Backend,
        ]);

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.CheckReadyAsync(Cancel));

        Assert.Equal("postgres", error.Dependency);
        Assert.Contains("no answer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckReady_AsksABackendsOwnReadinessCheck_WhenItHasOne()
    {
        var ready = new ReadinessStore(Unavailable("s3"));
        var storage = new MultiProfileStorage([new FakeBackend("local").Backend, new ProfileStorageBackend("s3+postgres", ready, ready, new FakeBackend("x").Backend.Retention)]);

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.CheckReadyAsync(Cancel));

        Assert.Equal("s3", error.Dependency);
        Assert.Equal(1, ready.Checks);
    }

    [Fact]
    public async Task CheckReady_NamesTheBackendsThatHadNotAnswered_WhenTheCallerGivesUp()
    {
        var hanging = new HangingReadiness();
        var storage = new MultiProfileStorage([new FakeBackend("local").Backend, new ProfileStorageBackend("s3+postgres", hanging, hanging, new FakeBackend("x").Backend.Retention)]);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);

        var check = storage.CheckReadyAsync(timeout.Token);
        await hanging.Started.Task;
        await timeout.CancelAsync();
        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => check);

        Assert.Equal("s3+postgres", error.Dependency);
    }

    [Fact]
    public async Task CheckReady_Returns_WhenEveryBackendAnswers()
    {
        var storage = new MultiProfileStorage([new FakeBackend("local").Backend, new FakeBackend("postgres").Backend]);

        await storage.CheckReadyAsync(Cancel);
    }

    [Fact]
    public void Constructor_Throws_WithoutBackends() =>
        Assert.Throws<ArgumentException>(() => new MultiProfileStorage([]));

    private static ProfileMeta Meta(string service = "api") =>
        new(ProfileId.NewId(Now), ProfileType.Cpu, service, [], Now);

    private static StorageUnavailableException Unavailable(string dependency) =>
        new(dependency, $"{dependency} is down", null);

    /// <summary>A backend over an in-memory store whose writes, reads or retention can be made to fail.</summary>
    private sealed class FakeBackend : IProfileWriter, IProfileReader, IProfileRetention
    {
        public FakeBackend(string name)
        {
            Backend = new ProfileStorageBackend(name, this, this, this);
        }

        public ProfileStorageBackend Backend { get; }

        public InMemoryProfileStore Store { get; } = new();

        public Exception? WriteFailure { get; init; }

        public Exception? ReadFailure { get; init; }

        public Exception? RetentionFailure { get; init; }

        public int RetentionDeletes { get; init; }

        public List<DateTime> RetentionCutoffs { get; } = [];

        public async Task WriteProfileAsync(ProfileMeta meta, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            await Task.Yield();
            if (WriteFailure is not null)
            {
                throw WriteFailure;
            }

            await Store.WriteProfileAsync(meta, data, cancellationToken);
        }

        public Task<IReadOnlyList<ProfileMeta>> FindProfilesAsync(TenantId tenant, ProfileQuery query, CancellationToken cancellationToken) =>
            ReadFailure is null ? Store.FindProfilesAsync(tenant, query, cancellationToken) : Task.FromException<IReadOnlyList<ProfileMeta>>(ReadFailure);

        public IAsyncEnumerable<StoredProfile> ListProfilesAsync(TenantId tenant, IReadOnlyList<ProfileId> ids, CancellationToken cancellationToken) =>
            Store.ListProfilesAsync(tenant, ids, cancellationToken);

        public Task<IReadOnlyList<string>> ListServicesAsync(TenantId tenant, CancellationToken cancellationToken) =>
            ReadFailure is null ? Store.ListServicesAsync(tenant, cancellationToken) : Task.FromException<IReadOnlyList<string>>(ReadFailure);

        public Task<IReadOnlyList<LabelValues>> ListLabelsAsync(TenantId tenant, string? service, CancellationToken cancellationToken) =>
            Store.ListLabelsAsync(tenant, service, cancellationToken);

        public Task<int> DeleteProfilesStoredBeforeAsync(DateTime cutoff, CancellationToken cancellationToken)
        {
            RetentionCutoffs.Add(cutoff);
            return RetentionFailure is null ? Task.FromResult(RetentionDeletes) : Task.FromException<int>(RetentionFailure);
        }
    }

    /// <summary>A reader with its own readiness check, as S3 + PostgreSQL has.</summary>
    private sealed class ReadinessStore(Exception failure) : IProfileWriter, IProfileReader, IProfileStorageReadiness
    {
        private readonly InMemoryProfileStore _store = new();

        public int Checks { get; private set; }

        public Task CheckReadyAsync(CancellationToken cancellationToken)
        {
            Checks++;
            return Task.FromException(failure);
        }

        public Task WriteProfileAsync(ProfileMeta meta, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
            _store.WriteProfileAsync(meta, data, cancellationToken);

        public Task<IReadOnlyList<ProfileMeta>> FindProfilesAsync(TenantId tenant, ProfileQuery query, CancellationToken cancellationToken) =>
            _store.FindProfilesAsync(tenant, query, cancellationToken);

        public IAsyncEnumerable<StoredProfile> ListProfilesAsync(TenantId tenant, IReadOnlyList<ProfileId> ids, CancellationToken cancellationToken) =>
            _store.ListProfilesAsync(tenant, ids, cancellationToken);

        // Lists fine: only the readiness check knows the object store is down.
        public Task<IReadOnlyList<string>> ListServicesAsync(TenantId tenant, CancellationToken cancellationToken) =>
            _store.ListServicesAsync(tenant, cancellationToken);

        public Task<IReadOnlyList<LabelValues>> ListLabelsAsync(TenantId tenant, string? service, CancellationToken cancellationToken) =>
            _store.ListLabelsAsync(tenant, service, cancellationToken);
    }

    /// <summary>A readiness check that answers only to cancellation, as one against a hung server.</summary>
    private sealed class HangingReadiness : IProfileWriter, IProfileReader, IProfileStorageReadiness
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task CheckReadyAsync(CancellationToken cancellationToken)
        {
            Started.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        public Task WriteProfileAsync(ProfileMeta meta, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<IReadOnlyList<ProfileMeta>> FindProfilesAsync(TenantId tenant, ProfileQuery query, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<ProfileMeta>>([]);

        public IAsyncEnumerable<StoredProfile> ListProfilesAsync(TenantId tenant, IReadOnlyList<ProfileId> ids, CancellationToken cancellationToken) =>
            AsyncEnumerable.Empty<StoredProfile>();

        public Task<IReadOnlyList<string>> ListServicesAsync(TenantId tenant, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<string>>([]);

        public Task<IReadOnlyList<LabelValues>> ListLabelsAsync(TenantId tenant, string? service, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<LabelValues>>([]);
    }
}
