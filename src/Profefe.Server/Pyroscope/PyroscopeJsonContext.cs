using System.Text.Json.Serialization;
using Profefe.Server.Pyroscope.Ingest;

namespace Profefe.Server.Pyroscope;

[JsonSerializable(typeof(Dictionary<string, SampleTypeConfig>))]
[JsonSerializable(typeof(string))]
internal sealed partial class PyroscopeJsonContext : JsonSerializerContext;
