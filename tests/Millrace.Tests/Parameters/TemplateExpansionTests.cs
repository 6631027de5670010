using Millrace.Definitions;
using Millrace.Parameters;

namespace Millrace.Tests.Parameters;

public sealed class TemplateExpansionTests
{
    static readonly IReadOnlyDictionary<string, ParameterValue> Values = new Dictionary<string, ParameterValue>
    {
        ["region"] = new(ParameterType.String, "north", "north"),
        ["limit"] = new(ParameterType.Int, "10", 10L),
        ["run.date"] = new(ParameterType.Date, "2024-01-05", new DateOnly(2024, 1, 5)),
    };

    [Theory]
    [InlineData("out/$region/", "out/north/")]
    [InlineData("out/${region}/", "out/north/")]
    [InlineData("out/${ region }/", "out/north/")]
    [InlineData("top${limit}.csv", "top10.csv")]
    [InlineData("predictions/dt=${run.date}/", "predictions/dt=2024-01-05/")]
    [InlineData("dt=$run.date/x", "dt=2024-01-05/x")]
    [InlineData("$region.csv", "north.csv")]
    [InlineData("no references", "no references")]
    public void References_become_the_value_text(string text, string expected)
    {
        Assert.Equal(expected, Template.Expand(text, Values));
    }

    [Theory]
    [InlineData("costs $$5", "costs $5")]
    [InlineData("$${region} stays", "${region} stays")]
    [InlineData("$$region in $region", "$region in north")]
    [InlineData("$$5 for ${region}", "$5 for north")]
    [InlineData("$$$region", "$north")]
    public void Double_dollar_is_a_literal_dollar(string text, string expected)
    {
        Assert.Equal(expected, Template.Expand(text, Values));
    }

    [Fact]
    public void Env_references_read_the_environment()
    {
        var name = "MILLRACE_TEST_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, "s3cret");
        try
        {
            Assert.Equal("password=s3cret;", Template.Expand($"password=${{env:{name}}};", Values));
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Fact]
    public void An_unset_environment_variable_is_an_error_naming_it()
    {
        var name = "MILLRACE_TEST_UNSET_" + Guid.NewGuid().ToString("N");

        var error = Assert.Throws<ParameterException>(() => Template.Expand($"${{env:{name}}}", Values));

        Assert.Contains($"environment variable '{name}' is not set", error.Message);
    }

    [Fact]
    public void An_unknown_reference_is_an_error()
    {
        var error = Assert.Throws<ParameterException>(() => Template.Expand("x/${nope}/", Values));

        Assert.Contains("unknown parameter '$nope'", error.Message);
    }

    [Fact]
    public void FindReferences_reports_names_and_positions_and_skips_escapes()
    {
        var references = Template.FindReferences("a $x b ${y.z} $$w", _ => true);

        Assert.Equal([new Template.Reference("x", 2, 2), new Template.Reference("y.z", 7, 6)], references);
    }
}
