using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Profefe.Agent;

namespace Profefe.AgentOverhead;

/// <summary>The profiling windows: when the agent profiles, from its log (round started, round finished), or when the bench opens sessions.</summary>
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

    /// <summary>A profiling window begins (the agent's round started, or the bench opened a session).</summary>
    public void Open()
    {
        lock (_windows)
        {
            _openedAt = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>The window that <see cref="Open"/> began has ended.</summary>
    public void Close()
    {
        lock (_windows)
        {
            if (_openedAt >= 0)
            {
                _windows.Add((_openedAt, Stopwatch.GetTimestamp()));
                _openedAt = -1;
            }
        }
    }

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id == AgentEventIds.RoundStarted)
        {
            Open();
        }
        else if (eventId.Id == AgentEventIds.RoundFinished)
        {
            Close();
        }
        else if (logLevel >= LogLevel.Warning && eventId.Id is not (7011 or 7012 or 7013 or 7015))
        {
            Console.Error.WriteLine($"agent: {formatter(state, exception)}");
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
