using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Millrace.Server.Tests.TestSupport;

/// <summary>
/// Keeps every message the server logs, so a test can wait for the line that says a decision was taken (and only
/// then assert that something did not happen) instead of sleeping. Add it with
/// <c>ConfigureLogging = logging => capture.AddTo(logging)</c>.
/// </summary>
public sealed class LogCapture : ILoggerProvider
{
    readonly ConcurrentQueue<string> _lines = new();

    /// <summary>The messages logged so far, in order.</summary>
    public IReadOnlyList<string> Lines => _lines.ToArray();

    /// <summary>Sends the server's log here (warnings and above, as the other tests log) as well as nowhere else.</summary>
    public void AddTo(ILoggingBuilder logging)
    {
        logging.SetMinimumLevel(LogLevel.Warning);
        logging.AddProvider(this);
    }

    /// <summary>True when a logged message contains <paramref name="text"/>.</summary>
    public bool Contains(string text) => _lines.Any(l => l.Contains(text, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose() { }

    sealed class Logger(LogCapture owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue(formatter(state, exception));
    }
}
