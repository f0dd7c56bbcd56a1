using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Profefe.Core.Ingest;
using Profefe.Core.Tenancy;

namespace Profefe.Server.Limits;

/// <summary>
/// The limiters every request passes through (System.Threading.RateLimiting): a token bucket of pushes per tenant
/// (Collector:IngestRate, IngestBurst, per-tenant overrides), and the uploads and merges running at once, with a
/// queue as long as the uploads' permits and 16 times the merges'. One instance for the process.
/// </summary>
internal sealed class RequestLimiters : IDisposable
{
    public const int MergeQueuePerPermit = 16;

    private readonly PartitionedRateLimiter<TenantId> _ingestRate;

    public RequestLimiters(IOptions<CollectorOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var collector = options.Value;
        _ingestRate = PartitionedRateLimiter.Create<TenantId, TenantId>(tenant => IngestPartition(tenant, collector));
        Uploads = Concurrency(collector.MaxConcurrentUploads, collector.MaxConcurrentUploads);

        // A waiting merge holds nothing but its request, and one UI page asks for several at once.
        Merges = Concurrency(collector.MaxConcurrentMerges, collector.MaxConcurrentMerges * MergeQueuePerPermit);
    }

    public ConcurrencyLimiter Uploads { get; }

    public ConcurrencyLimiter Merges { get; }

    public RateLimitLease AcquirePush(TenantId tenant) => _ingestRate.AttemptAcquire(tenant);

    public void Dispose()
    {
        _ingestRate.Dispose();
        Uploads.Dispose();
        Merges.Dispose();
    }

    private static RateLimitPartition<TenantId> IngestPartition(TenantId tenant, CollectorOptions options)
    {
        var own = options.Tenants.GetValueOrDefault(tenant.Value);
        var rate = own?.IngestRate ?? options.IngestRate;
        var burst = own?.IngestBurst ?? options.IngestBurst;
        if (rate <= 0)
        {
            return RateLimitPartition.GetNoLimiter(tenant);
        }

        // Refilled ten times a second so a rate below one push per second still works and bursts stay smooth.
        var perTenth = Math.Max(1, (int)Math.Ceiling(rate / 10));
        var period = TimeSpan.FromSeconds(perTenth / rate);
        return RateLimitPartition.GetTokenBucketLimiter(tenant, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = perTenth,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    private static ConcurrencyLimiter Concurrency(int permits, int queue) => new(new ConcurrencyLimiterOptions
    {
        PermitLimit = permits,
        QueueLimit = queue,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });
}
