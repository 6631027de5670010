using System.Text;

namespace Millrace.Definitions.Options;

/// <summary>
/// The docs table of an options record (<c>| option | type | default | meaning |</c>), as <c>millrace steps --markdown</c>
/// prints it and docs/definitions.md holds it between <c>&lt;!-- options: KIND --&gt;</c> markers (a test keeps them equal).
/// </summary>
public static class OptionsMarkdown
{
    /// <summary>The table of <paramref name="shape"/>'s options, one line per option, ending in a newline.</summary>
    public static string Table(OptionsShape shape)
    {
        var text = new StringBuilder("| option | type | default | meaning |\n| --- | --- | --- | --- |\n");
        foreach (var option in shape.Options)
        {
            var type = option.Kind == OptionValueKind.Choice && option.TypeText == string.Join(" | ", option.Choices)
                ? string.Join(", ", option.Choices.Select(c => $"`{c}`"))
                : Escape(option.TypeText);
            var literalDefault = option.Property.GetCustomAttributes(typeof(OptionAttribute), false) is [OptionAttribute { Default: null }];
            var defaultText = option.Required ? "required" : option.DefaultText is null ? "" : literalDefault ? $"`{option.DefaultText}`" : option.DefaultText;
            text.Append($"| `{option.Name}` | {type} | {Escape(defaultText)} | {Escape(option.Description)} |\n");
        }
        return text.ToString();
    }

    static string Escape(string cell) => cell.Replace("|", "\\|", StringComparison.Ordinal);
}
