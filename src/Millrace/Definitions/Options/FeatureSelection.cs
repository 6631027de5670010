namespace Millrace.Definitions.Options;

/// <summary>
/// Feature columns as written in <c>features:</c>: a list (the columns to use), or <c>{ include, exclude }</c>.
/// Empty <see cref="Include"/> means every eligible column.
/// </summary>
public sealed record FeatureSelection
{
    public IReadOnlyList<string> Include { get; init; } = [];
    public IReadOnlyList<string> Exclude { get; init; } = [];
}
