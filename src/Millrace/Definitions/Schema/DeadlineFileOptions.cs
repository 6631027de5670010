using System.Text.Json.Nodes;
using Millrace.Definitions.Options;

namespace Millrace.Definitions.Schema;

/// <summary>Which run date a deadline or freshness check on calendar day C is about: C itself, or the day before.</summary>
public enum DeadlineDateChoice { Today, Yesterday }

/// <summary><c>deadline:</c> of a pipeline.</summary>
public sealed record DeadlineOptions
{
    /// <summary>The pattern of a time of day, <c>HH:mm</c> (24-hour clock).</summary>
    public const string TimePattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$";

    [Option("by", "The time of day (`HH:mm`, 24-hour clock, in `timezone`) by which a run of the pipeline for the date must have succeeded.", Required = true, Pattern = TimePattern)]
    public string By { get; init; } = "";

    [Option("timezone", "An IANA time zone, such as `Europe/Berlin`.", Default = "`UTC`")]
    public string? Timezone { get; init; }

    [Option("date", "Which run date the deadline of a day is about: `today` (a run for day D must succeed by `by` on day D) or `yesterday` (by `by` on day D+1).")]
    public DeadlineDateChoice Date { get; init; } = DeadlineDateChoice.Today;
}

/// <summary>One entry of <c>freshness:</c> of a pipeline.</summary>
public sealed record FreshnessOptions
{
    [Option("feed", "A lake path glob with `{date}` (the run date, `yyyy-MM-dd`), such as `raw/events/dt={date}/*.csv`: at least one file must match by `by`.", Required = true)]
    public string Feed { get; init; } = "";

    [Option("by", "The time of day (`HH:mm`, 24-hour clock, in `timezone`) by which the feed's files for the date must be in the lake.", Required = true, Pattern = DeadlineOptions.TimePattern)]
    public string By { get; init; } = "";

    [Option("timezone", "An IANA time zone, such as `Europe/Berlin`.", Default = "`UTC`")]
    public string? Timezone { get; init; }

    [Option("date", "Which date's files are due by `by` on a day: `today` (the files for day D by `by` on day D) or `yesterday` (by `by` on day D+1).")]
    public DeadlineDateChoice Date { get; init; } = DeadlineDateChoice.Today;

    /// <summary>The schema of <c>freshness</c>: one entry or a list of them.</summary>
    public static JsonObject OneOrListSchema()
    {
        var one = JsonSchemaWriter.Object(OptionsShape.Of<FreshnessOptions>());
        return new JsonObject { ["anyOf"] = new JsonArray(one.DeepClone(), new JsonObject { ["type"] = "array", ["minItems"] = 1, ["items"] = one }) };
    }
}
