using System.Globalization;
using System.Text.RegularExpressions;

namespace Millrace.Definitions;

/// <summary>
/// What one use of a duration accepts: at most <see cref="Max"/>, and zero only when <see cref="AllowZero"/>.
/// Every duration Millrace reads (definition fields and command-line flags) names its bounds, so no value can
/// overflow a <see cref="TimeSpan"/>, a date or a timer.
/// </summary>
public readonly record struct DurationBounds(TimeSpan Max, bool AllowZero = false);

/// <summary>
/// The one parser of durations such as <c>30s</c>, <c>5m</c>, <c>1.5h</c>, <c>90d</c>: digits with an optional
/// decimal fraction, then the unit <c>s</c>, <c>m</c>, <c>h</c> or <c>d</c>. No sign, exponent, NaN or infinity.
/// </summary>
public static partial class Durations
{
    /// <summary>Pipeline <c>timeout</c>: a cancellation timer, which cannot be set further ahead than about 49 days.</summary>
    public static readonly DurationBounds PipelineTimeout = new(TimeSpan.FromDays(7));

    /// <summary>Pipeline <c>retries.backoff</c>: the wait before a retry.</summary>
    public static readonly DurationBounds RetryBackoff = new(TimeSpan.FromDays(1), AllowZero: true);

    /// <summary><c>check</c> freshness <c>max_age</c>.</summary>
    public static readonly DurationBounds FreshnessMaxAge = new(TimeSpan.FromDays(3650));

    /// <summary><c>millrace token create --expires</c>: at most ten years.</summary>
    public static readonly DurationBounds TokenLifetime = new(TimeSpan.FromDays(3650));

    /// <summary><c>millrace serve --shutdown-timeout</c>: less than the hour the process is given to stop.</summary>
    public static readonly DurationBounds ShutdownTimeout = new(TimeSpan.FromMinutes(30), AllowZero: true);

    /// <summary><c>millrace serve --heartbeat</c>.</summary>
    public static readonly DurationBounds Heartbeat = new(TimeSpan.FromMinutes(10));

    /// <summary><c>millrace serve --node-timeout</c>.</summary>
    public static readonly DurationBounds NodeTimeout = new(TimeSpan.FromDays(1));

    /// <summary><c>millrace serve --deadline-poll</c>: how often deadlines and feeds are evaluated.</summary>
    public static readonly DurationBounds DeadlinePoll = new(TimeSpan.FromHours(1));

    static readonly (char Unit, decimal Seconds)[] Units = [('s', 1m), ('m', 60m), ('h', 3600m), ('d', 86400m)];

    [GeneratedRegex(@"^[0-9]{1,28}(\.[0-9]{1,9})?[smhd]$", RegexOptions.CultureInvariant)]
    private static partial Regex Shape();

    /// <summary>
    /// Parses <paramref name="text"/> within <paramref name="bounds"/>. On failure <paramref name="problem"/> says
    /// why, as the end of a sentence that starts with the field or flag name ("must be …").
    /// </summary>
    public static bool TryParse(string text, DurationBounds bounds, out TimeSpan value, out string problem)
    {
        value = TimeSpan.Zero;
        var trimmed = text.Trim();
        if (!Shape().IsMatch(trimmed))
        {
            problem = $"must be a duration such as 30s, 5m, 2h or 1d (a number and a unit s, m, h or d), got '{Shown(text)}'";
            return false;
        }
        var unit = Units.First(u => u.Unit == trimmed[^1]).Seconds;
        var number = decimal.Parse(trimmed[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        var maxSeconds = (decimal)bounds.Max.Ticks / TimeSpan.TicksPerSecond;
        if (number > maxSeconds / unit)
        {
            problem = $"must be at most {Format(bounds.Max)}, got '{trimmed}'";
            return false;
        }
        var ticks = (long)decimal.Round(number * unit * TimeSpan.TicksPerSecond);
        if (ticks == 0 && !bounds.AllowZero)
        {
            problem = $"must be longer than 0s, got '{trimmed}'";
            return false;
        }
        value = TimeSpan.FromTicks(ticks);
        problem = "";
        return true;
    }

    /// <summary>A duration in the largest unit that writes it whole: <c>7d</c>, <c>30m</c>, <c>90s</c>.</summary>
    public static string Format(TimeSpan span)
    {
        foreach (var (unit, seconds) in Units.Reverse())
            if (span.Ticks % (long)(seconds * TimeSpan.TicksPerSecond) == 0)
                return $"{span.Ticks / (long)(seconds * TimeSpan.TicksPerSecond)}{unit}";
        return $"{span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s";
    }

    /// <summary>The value as an error may quote it: at most 40 characters, control characters escaped.</summary>
    static string Shown(string text)
    {
        var shown = text.Length > 40 ? text[..40] + "…" : text;
        return string.Concat(shown.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }
}
