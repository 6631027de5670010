using Millrace.Engine;

namespace Millrace.Definitions;

/// <summary>Loads and validates a project in one call.</summary>
public static class Project
{
    /// <summary>
    /// Loads the project in <paramref name="directory"/> and validates it against <paramref name="catalog"/>;
    /// throws <see cref="DefinitionException"/> listing every error.
    /// </summary>
    public static ProjectDefinition Open(string directory, StepCatalog? catalog = null)
    {
        var (project, errors) = Check(directory, catalog);
        return errors.Count > 0 ? throw new DefinitionException(errors) : project;
    }

    /// <summary>Loads and validates, returning the errors instead of throwing (for <c>millrace validate</c>).</summary>
    public static (ProjectDefinition Project, IReadOnlyList<DefinitionError> Errors) Check(string directory, StepCatalog? catalog = null)
    {
        var errors = new List<DefinitionError>();
        var project = ProjectLoader.Load(directory, errors);
        try
        {
            errors.AddRange(ProjectValidator.Validate(project, catalog ?? StepCatalog.Default));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Definition text must never crash a check; the loader's fuzz test checks that this is never needed.
            errors.Add(new DefinitionError(new SourceLocation(ProjectLoader.ProjectFileName, 0, 0), null,
                $"{ProjectValidator.InternalError} while checking the definitions ({e.GetType().Name}: {e.Message}); please report it"));
        }
        return (project, errors.Distinct().OrderBy(e => e.Location.File, StringComparer.Ordinal).ThenBy(e => e.Location.Line).ThenBy(e => e.Location.Column).ToList());
    }
}
