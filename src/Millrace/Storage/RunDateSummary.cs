namespace Millrace.Storage;

/// <summary>
/// The runs of one target for one run date: how many there are in each status, and the one that speaks for the date
/// (the newest that was not skipped, or the newest skipped one when all were). See <see cref="IRunStore.ListRunDatesAsync"/>.
/// </summary>
/// <param name="Date">The run date (<c>run.date</c>).</param>
/// <param name="Counts">Runs of the date by status; a status without runs is absent.</param>
/// <param name="Latest">The newest run of the date that was not skipped (the newest skipped run when every run was).</param>
public sealed record RunDateSummary(DateOnly Date, IReadOnlyDictionary<RunStatus, int> Counts, Run Latest)
{
    /// <summary>All runs of the date.</summary>
    public int Total => Counts.Values.Sum();

    /// <summary>The runs of the date in <paramref name="status"/>.</summary>
    public int Count(RunStatus status) => Counts.GetValueOrDefault(status);
}
