using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Profefe.AgentOverhead;

/// <summary>Learns when the agent profiles from its log (round started 7003, round finished 7004).</summary>
internal sealed class RoundLog : ILoggerFactory, ILogger
{
    private readonly List<(long Start, long End)> _windows = [];
    private long _openedAt = -1;

    public bool WasProfiling(long from, long to)
    {
        lock (_windows)
        {
            foreach (var (start, end) in _windows)
            {
                if (from < end && to > start)
                {
                    return true;
                }
            }

            return _openedAt >= 0 && to > _openedAt;
        }
    }

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_windows)
        {
            if (eventId.Id == 7003)
            {
                _openedAt = Stopwatch.GetTimestamp();
            }
            else if (eventId.Id == 7004 && _openedAt >= 0)
            {
                _windows.Add((_openedAt, Stopwatch.GetTimestamp()));
                _openedAt = -1;
            }
            else if (logLevel >= LogLevel.Warning && eventId.Id is not (7011 or 7012 or 7013 or 7015))
            {
                Console.Error.WriteLine($"agent: {formatter(state, exception)}");
            }
        }
    }

    public bool IsEnabled(LogLevel logLevel) => true;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }
}
