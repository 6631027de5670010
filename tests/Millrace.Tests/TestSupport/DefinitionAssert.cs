using Millrace.Definitions;

namespace Millrace.Tests.TestSupport;

/// <summary>Assertions over definition errors that print every error when they fail.</summary>
public static class DefinitionAssert
{
    /// <summary>The single error whose message contains <paramref name="fragment"/>; fails listing all errors otherwise.</summary>
    public static DefinitionError Single(IReadOnlyList<DefinitionError> errors, string fragment)
    {
        var matching = errors.Where(e => e.Message.Contains(fragment, StringComparison.Ordinal)).ToList();
        Assert.True(matching.Count == 1,
            $"expected exactly one error containing \"{fragment}\", found {matching.Count}; all errors:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}");
        return matching[0];
    }

    /// <summary>Fails, listing the errors, unless there are none.</summary>
    public static void None(IReadOnlyList<DefinitionError> errors) =>
        Assert.True(errors.Count == 0, "expected no definition errors, found:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
}
