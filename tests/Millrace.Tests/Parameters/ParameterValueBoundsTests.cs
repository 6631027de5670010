using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Parameters;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Parameters;

/// <summary>
/// A supplied parameter value is bounded, printable text: NUL, line breaks and other control characters, unpaired
/// surrogates and values over <see cref="ParameterText.MaxValueLength"/> are refused when the <c>--var</c> is parsed
/// and again when values are bound (the API's parameter map does not go through the parser), before a run is recorded.
/// </summary>
[Trait("Category", "Security")]
public sealed class ParameterValueBoundsTests
{
    static readonly RunIdentity Identity = new("run-1", new DateOnly(2024, 1, 5), DateTimeOffset.UnixEpoch, "nightly", "shop");

    static readonly Dictionary<string, ParameterDefinition> Declared = new(StringComparer.Ordinal)
    {
        ["region"] = new("region", ParameterType.String, "all", null, new SourceLocation("p.yaml", 1, 1)),
    };

    public static TheoryData<string, string> Hostile => new()
    {
        { "north\0", "U+0000" },
        { "no\nrth", "U+000A" },
        { "no\rrth", "U+000D" },
        { "a\tb", "U+0009" },
        { "\u001b[31m", "U+001B" },
        { "x\u0085y", "U+0085" },
        { new string('n', ParameterText.MaxValueLength + 1), "at most 4,096" },
        { new string('n', 3 * 1024 * 1024), "3,145,728 characters long" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Binding_refuses_the_value_naming_the_parameter(string value, string expected)
    {
        var error = Assert.Throws<ParameterException>(() => ParameterBinder.Bind(Declared, [new("region", value)], Identity));

        Assert.Contains("the value of parameter 'region'", error.Message);
        Assert.Contains(expected, error.Message);
        Assert.True(error.Message.Length < 1000, "the message does not echo the value");
        Assert.DoesNotContain('\0', error.Message);
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Parsing_refuses_the_value_on_the_command_line(string value, string expected)
    {
        var error = Assert.Throws<VarSyntaxException>(() => VarParser.ParseTokens(["--var", $"region={value}"]));

        Assert.Contains("the value of parameter 'region'", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void An_unpaired_surrogate_is_refused_by_parser_and_binder()
    {
        // Built here, not in theory data: xunit's serialization would turn the lone surrogate into U+FFFD.
        var value = "x" + (char)0xD800 + "y";

        Assert.Contains("unpaired surrogate U+D800", Assert.Throws<VarSyntaxException>(() => VarParser.ParseTokens(["--var", $"region={value}"])).Message);
        Assert.Contains("unpaired surrogate U+D800", Assert.Throws<ParameterException>(() => ParameterBinder.Bind(Declared, [new("region", value)], Identity)).Message);
    }

    [Fact]
    public void Parsing_refuses_a_parameters_string_over_the_bound()
    {
        var error = Assert.Throws<VarSyntaxException>(() => VarParser.Parse("--var region=" + new string('x', ParameterText.MaxParametersLength)));

        Assert.Contains("at most 262,144 are accepted", error.Message);
    }

    [Fact]
    public void A_value_at_the_bound_with_unicode_text_is_accepted()
    {
        var value = "région-😀" + new string('n', ParameterText.MaxValueLength - 9);

        var values = ParameterBinder.Bind(Declared, [new("region", value)], Identity);

        Assert.Equal(value, values["region"].Text);
        Assert.Equal(value, VarParser.ParseTokens(["--var", $"region={value}"])[0].Value);
    }

    [Theory]
    [InlineData("reg\0ion")]
    [InlineData("a b")]
    public void A_bad_name_from_the_api_map_is_refused_without_echoing_control_characters(string name)
    {
        var error = Assert.Throws<ParameterException>(() => ParameterBinder.Bind(Declared, [new(name, "north")], Identity));

        Assert.Contains("is not a valid parameter name", error.Message);
        Assert.DoesNotContain('\0', error.Message);
    }

    [Fact]
    public void A_name_over_the_bound_is_refused_without_echoing_it()
    {
        var name = new string('r', 100_000);

        var error = Assert.Throws<ParameterException>(() => ParameterBinder.Bind(Declared, [new(name, "north")], Identity));

        Assert.Contains("100,000 characters is too long", error.Message);
        Assert.True(error.Message.Length < 1000);
    }

    [Fact]
    public async Task A_run_request_with_a_NUL_value_is_refused_before_a_run_is_recorded()
    {
        await using var project = new TestProject();
        project.Workflow("ingest", """
            name: ingest
            parameters: { region: { default: all } }
            steps:
              - id: q
                type: sql
                sql: SELECT $region AS region
            """);
        var runner = new Runner(project.Open(), await project.StoreAsync());

        var error = await Assert.ThrowsAsync<RunRequestException>(() => runner.RunAsync(new RunRequest("ingest", [new("region", "x\0; DROP")])));

        Assert.Contains("U+0000", error.Message);
        Assert.Empty(await (await project.StoreAsync()).FindRunsAsync(new RunFilter(), new Page(0, 10), CancellationToken.None));
    }
}
