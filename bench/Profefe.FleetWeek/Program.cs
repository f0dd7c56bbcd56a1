using Profefe.FleetWeek;

// Issue 13, acceptance 1 and 3: a week of a fleet's CPU profiles in a collector, its merges and time series timed,
// its peak RSS and bytes on disk measured. Not a test: the numbers depend on the machine (see bench/README.md).
FleetOptions options;
try
{
    options = FleetOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

try
{
    var (report, correct) = await FleetWeekRun.ExecuteAsync(options).ConfigureAwait(false);
    Console.WriteLine();
    Console.WriteLine(report);
    return correct ? 0 : 3;
}
catch (Exception e) when (e is InvalidOperationException or IOException or HttpRequestException or Profefe.Client.ProfefeApiException)
{
    Console.Error.WriteLine($"fleet week: {e.Message}");
    return 1;
}
