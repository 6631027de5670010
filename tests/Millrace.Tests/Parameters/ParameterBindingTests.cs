using Millrace.Definitions;
using Millrace.Parameters;

namespace Millrace.Tests.Parameters;

public sealed class ParameterBindingTests
{
    static readonly RunIdentity Identity = new("20240105-101500-abcdef", new DateOnly(2024, 1, 5),
        new DateTimeOffset(2024, 1, 5, 10, 15, 0, TimeSpan.Zero), "nightly", "shop");

    static ParameterDefinition Declare(string name, ParameterType type, string? defaultValue = null) =>
        new(name, type, defaultValue, null, new SourceLocation("pipelines/nightly.yaml", 1, 1));

    static Dictionary<string, ParameterDefinition> Declared(params ParameterDefinition[] definitions) =>
        definitions.ToDictionary(d => d.Name, StringComparer.Ordinal);

    static KeyValuePair<string, string> Var(string name, string value) => new(name, value);

    [Fact]
    public void Defaults_are_used_when_no_value_is_supplied()
    {
        var values = ParameterBinder.Bind(Declared(Declare("region", ParameterType.String, "all"), Declare("limit", ParameterType.Int, "10")), [], Identity);

        Assert.Equal("all", values["region"].Value);
        Assert.Equal(10L, values["limit"].Value);
    }

    [Fact]
    public void Supplied_values_override_defaults()
    {
        var values = ParameterBinder.Bind(Declared(Declare("region", ParameterType.String, "all")), [Var("region", "north")], Identity);

        Assert.Equal("north", values["region"].Value);
    }

    [Fact]
    public void Values_are_converted_to_their_declared_types()
    {
        var values = ParameterBinder.Bind(
            Declared(Declare("n", ParameterType.Int), Declare("ratio", ParameterType.Double), Declare("dry", ParameterType.Bool), Declare("day", ParameterType.Date)),
            [Var("n", "-42"), Var("ratio", "0.25"), Var("dry", "TRUE"), Var("day", "2024-02-29")],
            Identity);

        Assert.Equal(-42L, values["n"].Value);
        Assert.Equal(0.25, values["ratio"].Value);
        Assert.Equal(true, values["dry"].Value);
        Assert.Equal(new DateOnly(2024, 2, 29), values["day"].Value);
        Assert.Equal("-42", values["n"].Text);
    }

    [Fact]
    public void Every_built_in_is_present()
    {
        var values = ParameterBinder.Bind(Declared(), [], Identity);

        Assert.Equal(BuiltInParameters.Names.Order(StringComparer.Ordinal), values.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("20240105-101500-abcdef", values[BuiltInParameters.RunId].Value);
        Assert.Equal(new DateOnly(2024, 1, 5), values[BuiltInParameters.RunDate].Value);
        Assert.Equal("2024-01-05T10:15:00Z", values[BuiltInParameters.RunTime].Text);
        Assert.Equal("nightly", values[BuiltInParameters.PipelineName].Value);
        Assert.Equal("shop", values[BuiltInParameters.ProjectId].Value);
    }

    [Fact]
    public void Run_date_can_be_overridden_for_a_backfill()
    {
        var values = ParameterBinder.Bind(Declared(), [Var("run.date", "2023-12-31")], Identity);

        Assert.Equal(new DateOnly(2023, 12, 31), values[BuiltInParameters.RunDate].Value);
        Assert.Equal("2023-12-31", values[BuiltInParameters.RunDate].Text);
    }
}
