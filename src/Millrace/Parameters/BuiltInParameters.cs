namespace Millrace.Parameters;

/// <summary>Parameters every run has without declaring them.</summary>
public static class BuiltInParameters
{
    public const string RunId = "run.id";
    public const string RunDate = "run.date";
    public const string RunTime = "run.time";
    public const string PipelineName = "pipeline.name";
    public const string ProjectId = "project.id";

    /// <summary>All built-in names.</summary>
    public static readonly IReadOnlyList<string> Names = [RunId, RunDate, RunTime, PipelineName, ProjectId];

    /// <summary>Built-ins a caller may set with <c>--var</c> (a backfill sets the run date); the rest are the run's own.</summary>
    public static readonly IReadOnlyList<string> Overridable = [RunDate];

    public static bool IsBuiltIn(string name) => Names.Contains(name);
}
