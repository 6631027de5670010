using Millrace.Definitions;
using Millrace.Parameters;

namespace Millrace.Tests.Parameters;

public sealed class SqlTemplateExpansionTests
{
    static readonly IReadOnlyDictionary<string, ParameterValue> Values = new Dictionary<string, ParameterValue>
    {
        ["region"] = new(ParameterType.String, "north", "north"),
        ["name"] = new(ParameterType.String, "O'Brien", "O'Brien"),
        ["attack"] = new(ParameterType.String, "x' OR 1=1 --", "x' OR 1=1 --"),
        ["limit"] = new(ParameterType.Int, "10", 10L),
        ["ratio"] = new(ParameterType.Double, "0.5", 0.5),
        ["dry"] = new(ParameterType.Bool, "true", true),
        ["day"] = new(ParameterType.Date, "2024-01-05", new DateOnly(2024, 1, 5)),
        ["run.date"] = new(ParameterType.Date, "2024-02-01", new DateOnly(2024, 2, 1)),
    };

    [Theory]
    [InlineData("LIMIT $limit", "LIMIT 10")]
    [InlineData("WHERE region = $region", "WHERE region = 'north'")]
    [InlineData("WHERE region = ${region}", "WHERE region = 'north'")]
    [InlineData("WHERE name = $name", "WHERE name = 'O''Brien'")]
    [InlineData("WHERE day = $day", "WHERE day = DATE '2024-01-05'")]
    [InlineData("WHERE day = ${run.date}", "WHERE day = DATE '2024-02-01'")]
    [InlineData("WHERE r > $ratio", "WHERE r > 0.5::DOUBLE")]
    [InlineData("WHERE flag = $dry", "WHERE flag = TRUE")]
    public void Outside_strings_a_reference_becomes_a_typed_literal(string sql, string expected)
    {
        Assert.Equal(expected, Template.ExpandSql(sql, Values));
    }

    [Theory]
    [InlineData("WHERE label = 'team-$region'", "WHERE label = 'team-north'")]
    [InlineData("WHERE name = 'Mr ${name}'", "WHERE name = 'Mr O''Brien'")]
    [InlineData("WHERE path LIKE 'dt=${run.date}/%'", "WHERE path LIKE 'dt=2024-02-01/%'")]
    [InlineData("WHERE n = '$limit'", "WHERE n = '10'")]
    public void Inside_a_quoted_string_a_reference_becomes_escaped_text(string sql, string expected)
    {
        Assert.Equal(expected, Template.ExpandSql(sql, Values));
    }

    [Fact]
    public void An_injection_attempt_stays_one_string_literal()
    {
        Assert.Equal("WHERE region = 'x'' OR 1=1 --'", Template.ExpandSql("WHERE region = $attack", Values));
        Assert.Equal("WHERE region = 'a-x'' OR 1=1 --'", Template.ExpandSql("WHERE region = 'a-$attack'", Values));
    }

    [Fact]
    public void A_quote_before_the_reference_in_an_earlier_string_does_not_confuse_the_expansion()
    {
        Assert.Equal("SELECT 'it''s', 'north' AS r, 10", Template.ExpandSql("SELECT 'it''s', $region AS r, $limit", Values));
    }

    [Fact]
    public void Double_dollar_stays_a_literal_dollar_in_SQL()
    {
        Assert.Equal("SELECT '$5' AS price, 10", Template.ExpandSql("SELECT '$$5' AS price, $limit", Values));
        Assert.Equal("SELECT '$5'", Template.ExpandSql("SELECT '$$5'", Values));
    }
}
