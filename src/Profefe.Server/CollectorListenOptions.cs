using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Profefe.Server;

/// <summary>Where the collector listens: configuration key "Collector:Address", which <c>serve --addr</c> sets.</summary>
public sealed class CollectorListenOptions
{
    public const string SectionName = "Collector";

    /// <summary>"host:port" as profefe's -addr takes it (":10100" is every interface), or a URL.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Collector:Address must not be empty")]
    public string Address { get; set; } = "127.0.0.1:10100";
}

/// <summary>Checks <see cref="CollectorListenOptions"/> (source-generated from its annotations).</summary>
[OptionsValidator]
internal sealed partial class CollectorListenOptionsValidator : IValidateOptions<CollectorListenOptions>;
