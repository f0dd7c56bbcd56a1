using Profefe.LoadDriver;

// Measures a collector the way issue 3 (acceptance 5) asks and prints the figures beside profefe's.
// Not a test: numbers depend on the machine; run it on a quiet one (see bench/README.md).
LoadOptions options;
try
{
    options = LoadOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

try
{
    var report = await LoadRun.ExecuteAsync(options).ConfigureAwait(false);
    Console.WriteLine();
    Console.WriteLine(report);
    return 0;
}
catch (Exception e) when (e is InvalidOperationException or IOException or HttpRequestException or Profefe.Client.ProfefeApiException)
{
    Console.Error.WriteLine($"load driver: {e.Message}");
    return 1;
}
