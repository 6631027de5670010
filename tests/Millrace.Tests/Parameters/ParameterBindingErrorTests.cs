using Millrace.Definitions;
using Millrace.Parameters;

namespace Millrace.Tests.Parameters;

public sealed class ParameterBindingErrorTests
{
    static readonly RunIdentity Identity = new("run-1", new DateOnly(2024, 1, 5), DateTimeOffset.UnixEpoch, "nightly", "shop");

    static Dictionary<string, ParameterDefinition> Declared(params (string Name, ParameterType Type, string? Default)[] definitions) =>
        definitions.ToDictionary(d => d.Name, d => new ParameterDefinition(d.Name, d.Type, d.Default, null, new SourceLocation("p.yaml", 1, 1)), StringComparer.Ordinal);

    static KeyValuePair<string, string> Var(string name, string value) => new(name, value);

    [Theory]
    [InlineData(ParameterType.Int, "12.5", "expects an integer, got '12.5'")]
    [InlineData(ParameterType.Int, "ten", "expects an integer, got 'ten'")]
    [InlineData(ParameterType.Double, "1,5", "expects a number, got '1,5'")]
    [InlineData(ParameterType.Bool, "maybe", "expects true or false, got 'maybe'")]
    [InlineData(ParameterType.Date, "05/01/2024", "expects a date (yyyy-MM-dd), got '05/01/2024'")]
    [InlineData(ParameterType.Date, "2024-02-30", "expects a date (yyyy-MM-dd), got '2024-02-30'")]
    public void A_value_of_the_wrong_type_is_an_error_naming_the_parameter_and_type(ParameterType type, string text, string expected)
    {
        var error = Assert.Throws<ParameterException>(() => ParameterBinder.Bind(Declared(("p", type, null)), [Var("p", text)], Identity));

        Assert.Contains($"parameter 'p' {expected}", error.Message);
    }

    [Fact]
    public void An_unknown_parameter_is_an_error_listing_the_declared_ones()
    {
        var error = Assert.Throws<ParameterException>(() =>
            ParameterBinder.Bind(Declared(("region", ParameterType.String, "all"), ("limit", ParameterType.Int, "5")), [Var("regoin", "north")], Identity));

        Assert.Contains("unknown parameter 'regoin'", error.Message);
        Assert.Contains("declared: limit, region", error.Message);
    }

    [Fact]
    public void A_required_parameter_without_a_value_is_an_error_saying_how_to_pass_it()
    {
        var error = Assert.Throws<ParameterException>(() => ParameterBinder.Bind(Declared(("day", ParameterType.Date, null)), [], Identity));

        Assert.Contains("parameter 'day' is required: pass --var day=VALUE", error.Message);
    }

    [Fact]
    public void Every_problem_is_listed_in_one_error()
    {
        var error = Assert.Throws<ParameterException>(() => ParameterBinder.Bind(
            Declared(("day", ParameterType.Date, null), ("n", ParameterType.Int, null)),
            [Var("n", "x"), Var("other", "1")], Identity));

        Assert.Contains("'day' is required", error.Message);
        Assert.Contains("parameter 'n' expects an integer", error.Message);
        Assert.Contains("unknown parameter 'other'", error.Message);
    }

    [Theory]
    [InlineData("run.id")]
    [InlineData("project.id")]
    public void A_built_in_set_by_Millrace_cannot_be_supplied(string name)
    {
        var error = Assert.Throws<ParameterException>(() => ParameterBinder.Bind(Declared(), [Var(name, "x")], Identity));

        Assert.Contains($"'{name}' is set by Millrace", error.Message);
    }

    [Fact]
    public void A_run_date_that_is_not_a_date_is_an_error()
    {
        var error = Assert.Throws<ParameterException>(() => ParameterBinder.Bind(Declared(), [Var("run.date", "yesterday")], Identity));

        Assert.Contains("parameter 'run.date' expects a date", error.Message);
    }
}
