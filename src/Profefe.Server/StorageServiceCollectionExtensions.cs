using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Profefe.Core.Storage;
using Profefe.Server;

namespace Microsoft.Extensions.DependencyInjection;

public static class StorageServiceCollectionExtensions
{
    // Storage:Type's names, in the order the start-up error lists them.
    private static readonly (string Name, Action<IServiceCollection> Add)[] Backends =
    [
        ("local", static services => services.AddProfefeLocalStorage()),
        ("postgres", static services => services.AddProfefePostgresStorage()),
        ("s3+postgres", static services => services.AddProfefeS3PostgresStorage()),
        ("s3", static services => services.AddProfefeS3Storage()),
    ];

    // The key the "s3+postgres" index finds its blob store by.
    private const string S3PostgresBlobStoreKey = "s3+postgres";

    private static readonly Type[] SeamTypes =
        [typeof(IProfileWriter), typeof(IProfileReader), typeof(IProfileRetention), typeof(IProfileStorageStatistics)];

    /// <summary>The storage names Storage:Type accepts.</summary>
    public static IReadOnlyList<string> SupportedStorageTypes { get; } = Array.ConvertAll(Backends, static b => b.Name);

    /// <summary>
    /// The backends Storage:Type names (section "Storage", see <see cref="StorageOptions"/>): one backend as the
    /// storage seam, or several as a <see cref="MultiProfileStorage"/>. Throws <see cref="InvalidOperationException"/>
    /// listing the supported names when Storage:Type names another.
    /// </summary>
    public static IServiceCollection AddProfefeStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>());

        var names = ParseTypes(configuration[$"{StorageOptions.SectionName}:{nameof(StorageOptions.Type)}"]);
        if (names.Count == 1)
        {
            Find(names[0]).Add(services);
            switch (names[0])
            {
                case "local":
                    // The engine cuts its blocks from the embedded store's write log.
                    services.AddProfefeEngine();
                    break;
                // On shared storage too: merges and time series read the blocks as of the engine's cursor plus the
                // profiles not cut yet, so none waits for the lease holder's cutter (Engine:Enabled=false turns it off).
                case "s3+postgres":
                    // Blocks as objects beside the profiles, the rest shared in PostgreSQL.
                    services.AddProfefeS3EngineBlockObjects(S3PostgresBlobStoreKey).AddProfefePostgresEngine(S3PostgresBlobStoreKey);
                    break;
                case "postgres":
                    services.AddProfefePostgresEngine();
                    break;
            }

            return services;
        }

        var backends = new List<Func<IServiceProvider, ProfileStorageBackend>>(names.Count);
        var primaryHasStatistics = false;
        foreach (var name in names)
        {
            var (backend, hasStatistics) = AddBackend(services, name, Find(name).Add);
            primaryHasStatistics |= backends.Count == 0 && hasStatistics;
            backends.Add(backend);
        }

        services.TryAddSingleton(provider => new MultiProfileStorage(
            backends.ConvertAll(backend => backend(provider)),
            provider.GetService<ILogger<MultiProfileStorage>>()));
        services.TryAddSingleton<IProfileWriter>(static provider => provider.GetRequiredService<MultiProfileStorage>());
        services.TryAddSingleton<IProfileReader>(static provider => provider.GetRequiredService<MultiProfileStorage>());
        services.TryAddSingleton<IProfileRetention>(static provider => provider.GetRequiredService<MultiProfileStorage>());
        if (primaryHasStatistics)
        {
            // Statistics describe what reads see: the first backend's.
            services.TryAddSingleton(static provider => provider.GetRequiredService<MultiProfileStorage>().Primary.Statistics!);
        }

        return services;
    }

    /// <summary>
    /// "S3 + PostgreSQL" for any number of stateless collectors: profile bytes in object storage (section
    /// "Storage:S3"), the index in PostgreSQL (section "Storage:Postgres",
    /// <see cref="Profefe.Storage.Postgres.PostgresProfileStorage"/>). Writes gather per tenant and shard for
    /// Storage:Segments:Window into one segment object (<see cref="Profefe.Storage.S3.S3SegmentObjectStore"/>),
    /// PUT before its index rows are committed, so a crash leaves at worst an object nothing points at, which the
    /// orphan sweep deletes. Profiles written one object each (<see cref="Profefe.Storage.S3.S3ProfileBlobStore"/>)
    /// before segments still read.
    /// </summary>
    public static IServiceCollection AddProfefeS3PostgresStorage(this IServiceCollection services) =>
        services.AddProfefeS3BlobStore(S3PostgresBlobStoreKey)
            .AddProfefeS3SegmentStore(S3PostgresBlobStoreKey)
            .AddProfefePostgresStorage(S3PostgresBlobStoreKey, S3PostgresBlobStoreKey);

    /// <summary>"local", " local , postgres " → ["local", "postgres"]; rejects empty entries and repeats.</summary>
    internal static List<string> ParseTypes(string? configured)
    {
        if (string.IsNullOrWhiteSpace(configured))
        {
            return ["local"];
        }

        var names = new List<string>();
        foreach (var part in configured.Split(','))
        {
            var name = part.Trim().ToLowerInvariant();
            if (name.Length == 0)
            {
                throw new InvalidOperationException($"Storage:Type \"{configured}\" has an empty entry; supported: {string.Join(", ", SupportedStorageTypes)}, or several separated by commas");
            }

            Find(name);
            if (names.Contains(name))
            {
                throw new InvalidOperationException($"Storage:Type \"{configured}\" names {name} twice");
            }

            names.Add(name);
        }

        if (names.Contains("postgres") && names.Contains("s3+postgres"))
        {
            // Both keep their index in the one Storage:Postgres schema: the second write of a profile would collide.
            throw new InvalidOperationException($"Storage:Type \"{configured}\": postgres and s3+postgres share the Storage:Postgres schema and cannot be combined");
        }

        return names;
    }

    private static (string Name, Action<IServiceCollection> Add) Find(string name)
    {
        foreach (var backend in Backends)
        {
            if (string.Equals(backend.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return backend;
            }
        }

        throw new InvalidOperationException($"unknown storage type \"{name}\" (Storage:Type); supported: {string.Join(", ", SupportedStorageTypes)}, or several separated by commas (local,postgres)");
    }

    /// <summary>
    /// Adds one backend's services, except the storage seam it would register (the multi-writer takes that
    /// place), and returns how to get its halves of the seam from the container.
    /// </summary>
    private static (Func<IServiceProvider, ProfileStorageBackend> Backend, bool HasStatistics) AddBackend(IServiceCollection services, string name, Action<IServiceCollection> add)
    {
        var own = new ServiceCollection();
        add(own);
        var seam = new Dictionary<Type, ServiceDescriptor>();
        foreach (var descriptor in own)
        {
            if (Array.IndexOf(SeamTypes, descriptor.ServiceType) >= 0)
            {
                seam[descriptor.ServiceType] = descriptor;
            }
            else if (!Contains(services, descriptor))
            {
                services.Add(descriptor);
            }
        }

        foreach (var type in SeamTypes[..3])
        {
            if (!seam.ContainsKey(type))
            {
                throw new InvalidOperationException($"storage {name} does not register {type.Name}");
            }
        }

        var hasStatistics = seam.ContainsKey(typeof(IProfileStorageStatistics));
        return (provider => new ProfileStorageBackend(
            name,
            (IProfileWriter)Resolve(provider, seam[typeof(IProfileWriter)]),
            (IProfileReader)Resolve(provider, seam[typeof(IProfileReader)]),
            (IProfileRetention)Resolve(provider, seam[typeof(IProfileRetention)]),
            hasStatistics ? (IProfileStorageStatistics)Resolve(provider, seam[typeof(IProfileStorageStatistics)]) : null), hasStatistics);
    }

    // Backends register their seam as factories over one singleton, so every half resolves to the same instance.
    private static object Resolve(IServiceProvider provider, ServiceDescriptor descriptor) =>
        descriptor.ImplementationFactory?.Invoke(provider)
        ?? descriptor.ImplementationInstance
        ?? ActivatorUtilities.GetServiceOrCreateInstance(provider, descriptor.ImplementationType!);

    // Shared registrations (options infrastructure, TimeProvider) must not be added twice.
    private static bool Contains(IServiceCollection services, ServiceDescriptor descriptor)
    {
        foreach (var existing in services)
        {
            if (existing.ServiceType != descriptor.ServiceType
                || existing.Lifetime != descriptor.Lifetime
                || existing.IsKeyedService != descriptor.IsKeyedService)
            {
                continue;
            }

            var same = existing.IsKeyedService
                ? Equals(existing.ServiceKey, descriptor.ServiceKey)
                    && existing.KeyedImplementationType == descriptor.KeyedImplementationType
                    && ReferenceEquals(existing.KeyedImplementationInstance, descriptor.KeyedImplementationInstance)
                    && Equals(existing.KeyedImplementationFactory, descriptor.KeyedImplementationFactory)
                : existing.ImplementationType == descriptor.ImplementationType
                    && ReferenceEquals(existing.ImplementationInstance, descriptor.ImplementationInstance)
                    && Equals(existing.ImplementationFactory, descriptor.ImplementationFactory);
            if (same)
            {
                return true;
            }
        }

        return false;
    }
}
