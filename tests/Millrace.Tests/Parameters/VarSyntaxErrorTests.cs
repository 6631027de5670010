using Millrace.Parameters;

namespace Millrace.Tests.Parameters;

public sealed class VarSyntaxErrorTests
{
    [Fact]
    public void An_unterminated_double_quote_is_an_error_naming_its_column()
    {
        var error = Assert.Throws<VarSyntaxException>(() => VarParser.Parse("--var region=\"north"));

        Assert.Contains("unterminated double quote", error.Message);
        Assert.Contains("column 14", error.Message);
    }

    [Fact]
    public void An_unterminated_single_quote_is_an_error()
    {
        var error = Assert.Throws<VarSyntaxException>(() => VarParser.Parse("--var a=1 --var b='x"));

        Assert.Contains("unterminated single quote", error.Message);
    }

    [Fact]
    public void A_var_without_equals_is_an_error_showing_the_right_form()
    {
        var error = Assert.Throws<VarSyntaxException>(() => VarParser.Parse("--var region north"));

        Assert.Contains("'--var region north' has no '='", error.Message);
        Assert.Contains("--var NAME=VALUE", error.Message);
    }

    [Fact]
    public void A_name_given_twice_is_an_error()
    {
        var error = Assert.Throws<VarSyntaxException>(() => VarParser.Parse("--var region=north --var region = south"));

        Assert.Contains("parameter 'region' is given twice", error.Message);
    }

    [Theory]
    [InlineData("region=north")]
    [InlineData("-var region=north")]
    [InlineData("--vars region=north")]
    public void Text_that_does_not_start_with_var_is_an_error(string text)
    {
        var error = Assert.Throws<VarSyntaxException>(() => VarParser.Parse(text));

        Assert.Contains("expected '--var NAME=VALUE'", error.Message);
    }

    [Fact]
    public void A_var_with_nothing_after_it_is_an_error()
    {
        var error = Assert.Throws<VarSyntaxException>(() => VarParser.Parse("--var a=1 --var"));

        Assert.Contains("not followed by NAME=VALUE", error.Message);
    }

    [Theory]
    [InlineData("--var =north")]
    [InlineData("--var 1st=north")]
    [InlineData("--var my-region=north")]
    public void A_missing_or_invalid_name_is_an_error(string text)
    {
        Assert.Throws<VarSyntaxException>(() => VarParser.Parse(text));
    }
}
