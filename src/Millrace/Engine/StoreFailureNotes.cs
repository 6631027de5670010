using Millrace.Definitions;

namespace Millrace.Engine;

/// <summary>
/// The cause of a run that ended because the store could not be written (locked, full disk), kept in a small file
/// next to the store (<c>.millrace/failures/RUN_ID.txt</c>) when not even the run's end could be recorded. The process
/// that later finds the run interrupted records this cause instead of a bare "interrupted", so the cause is not lost.
/// </summary>
public static class StoreFailureNotes
{
    static string PathOf(ProjectDefinition project, string runId) => Path.Combine(project.StateDirectory, "failures", runId + ".txt");

    /// <summary>Keeps <paramref name="cause"/> for <paramref name="runId"/>; false when the file cannot be written either.</summary>
    public static bool Write(ProjectDefinition project, string runId, string cause)
    {
        try
        {
            var path = PathOf(project, runId);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, cause);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The cause kept for <paramref name="runId"/>, or null.</summary>
    public static string? Read(ProjectDefinition project, string runId)
    {
        try
        {
            var path = PathOf(project, runId);
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Forgets the cause once it is recorded in the store.</summary>
    public static void Remove(ProjectDefinition project, string runId)
    {
        try { File.Delete(PathOf(project, runId)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* recorded already; a stale note is harmless */ }
    }
}
