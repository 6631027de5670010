namespace Millrace.Parameters;

/// <summary>
/// Expands parameters in a path that is matched as a glob (a <c>read</c> step's <c>path</c>). The definition's own
/// wildcards stay wildcards, but a parameter value is literal path text: a value holding a glob character
/// (<c>* ? [ ] { }</c>) is refused, so <c>--var region=*</c> cannot widen <c>raw/sales/region=${region}/*.csv</c> to every
/// region. The plain-text expansion is <see cref="Template.Expand"/>; this only checks what the values bring.
/// </summary>
public static class PathTemplate
{
    /// <summary>The characters a glob gives a meaning to, refused in values expanded into a glob.</summary>
    public static readonly char[] GlobCharacters = ['*', '?', '[', ']', '{', '}'];

    /// <summary>
    /// Expands <paramref name="path"/> with <paramref name="values"/>; throws <see cref="ParameterException"/> naming the
    /// parameter when a value would bring a glob character into it.
    /// </summary>
    public static string ExpandGlob(string path, IReadOnlyDictionary<string, ParameterValue> values)
    {
        foreach (var reference in Template.FindReferences(path, values.ContainsKey))
        {
            if (!values.TryGetValue(reference.Name, out var value)) continue;
            var index = value.Text.IndexOfAny(GlobCharacters);
            if (index >= 0)
                throw new ParameterException(
                    $"parameter '{reference.Name}' has the value '{ParameterText.Shown(value.Text)}', whose '{value.Text[index]}' would be a wildcard in the path '{path}'; " +
                    "a value in a path is literal text and may not hold * ? [ ] { } (to read several folders, write the wildcard in the definition)");
        }
        return Template.Expand(path, values);
    }
}
