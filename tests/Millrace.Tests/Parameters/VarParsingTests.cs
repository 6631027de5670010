using Millrace.Parameters;

namespace Millrace.Tests.Parameters;

public sealed class VarParsingTests
{
    static KeyValuePair<string, string> Pair(string name, string value) => new(name, value);

    [Theory]
    [InlineData("--var region=north")]
    [InlineData("--var region = north")]
    [InlineData("--var region= north")]
    [InlineData("--var region =north")]
    [InlineData("  --var   region=north  ")]
    public void Name_and_value_are_read_with_or_without_spaces_around_the_equals_sign(string text)
    {
        Assert.Equal([Pair("region", "north")], VarParser.Parse(text));
    }

    [Theory]
    [InlineData("--var region=\"North East\"")]
    [InlineData("--var region = \"North East\"")]
    [InlineData("--var region='North East'")]
    [InlineData("--var \"region=North East\"")]
    public void A_quoted_value_keeps_its_spaces_and_loses_its_quotes(string text)
    {
        Assert.Equal([Pair("region", "North East")], VarParser.Parse(text));
    }

    [Fact]
    public void Several_vars_are_read_in_order()
    {
        var result = VarParser.Parse("--var region = north --var day=2024-01-02 --var limit= 10");

        Assert.Equal([Pair("region", "north"), Pair("day", "2024-01-02"), Pair("limit", "10")], result);
    }

    [Fact]
    public void A_value_may_contain_equals_signs()
    {
        Assert.Equal([Pair("filter", "a=b=c")], VarParser.Parse("--var filter=a=b=c"));
        Assert.Equal([Pair("filter", "x = 1")], VarParser.Parse("--var filter = \"x = 1\""));
    }

    [Fact]
    public void A_value_may_contain_a_quote_of_the_other_kind_and_escaped_quotes()
    {
        Assert.Equal([Pair("name", "O'Brien")], VarParser.Parse("--var name=\"O'Brien\""));
        Assert.Equal([Pair("say", "he said \"hi\"")], VarParser.Parse("--var say=\"he said \\\"hi\\\"\""));
    }

    [Fact]
    public void A_built_in_name_with_dots_is_accepted()
    {
        Assert.Equal([Pair("run.date", "2024-03-01")], VarParser.Parse("--var run.date=2024-03-01"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void No_text_means_no_parameters(string? text)
    {
        Assert.Empty(VarParser.Parse(text));
    }

    [Fact]
    public void An_empty_value_is_allowed()
    {
        Assert.Equal([Pair("suffix", "")], VarParser.Parse("--var suffix="));
    }
}
