using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;

namespace Millrace.Server.Ui;

/// <summary>
/// A fragment of HTML that is safe to write as it is. Fragments are made with <see cref="Of"/> from an interpolated
/// string whose literal parts are markup and whose holes are HTML-encoded (unless a hole is itself an
/// <see cref="Html"/>), so data can only reach a page encoded.
/// </summary>
readonly struct Html
{
    readonly string? _value;

    Html(string value) => _value = value;

    /// <summary>The markup.</summary>
    public string Value => _value ?? "";

    public static Html Empty => default;

    /// <summary>Markup from an interpolated string: literals are kept, holes are encoded (other fragments are kept).</summary>
    public static Html Of(HtmlInterpolation markup) => markup.ToHtml();

    /// <summary>Encoded text.</summary>
    public static Html Text(string? text) => new(Encode(text));

    /// <summary>The fragments one after another.</summary>
    public static Html Join(IEnumerable<Html> parts) => new(string.Concat(parts.Select(p => p.Value)));

    /// <summary>The fragments with <paramref name="separator"/> between them.</summary>
    public static Html Join(Html separator, IEnumerable<Html> parts) => new(string.Join(separator.Value, parts.Select(p => p.Value)));

    /// <summary>Encodes text for an element's content or a double-quoted attribute value.</summary>
    public static string Encode(string? text) => WebUtility.HtmlEncode(text ?? "");

    /// <summary>Wraps markup that code of this assembly built from constants (the stylesheet).</summary>
    internal static Html Trusted(string markup) => new(markup);

    public override string ToString() => Value;
}

/// <summary>Builds an <see cref="Html"/> fragment: literal parts verbatim, every value HTML-encoded.</summary>
[InterpolatedStringHandler]
ref struct HtmlInterpolation
{
    readonly StringBuilder _builder;

    public HtmlInterpolation(int literalLength, int formattedCount) => _builder = new StringBuilder(literalLength + formattedCount * 16);

    public void AppendLiteral(string value) => _builder.Append(value);

    public void AppendFormatted(Html value) => _builder.Append(value.Value);

    public void AppendFormatted(string? value) => _builder.Append(Html.Encode(value));

    public void AppendFormatted<T>(T value) => _builder.Append(Html.Encode(Format(value, null)));

    public void AppendFormatted<T>(T value, string? format) => _builder.Append(Html.Encode(Format(value, format)));

    public void AppendFormatted<T>(T value, int alignment) => AppendFormatted(value, alignment, null);

    public void AppendFormatted<T>(T value, int alignment, string? format)
    {
        var text = Format(value, format) ?? "";
        text = alignment < 0 ? text.PadRight(-alignment) : text.PadLeft(alignment);
        _builder.Append(Html.Encode(text));
    }

    static string? Format<T>(T value, string? format) =>
        value is IFormattable formattable ? formattable.ToString(format, CultureInfo.InvariantCulture) : value?.ToString();

    internal readonly Html ToHtml() => Html.Trusted(_builder.ToString());
}
