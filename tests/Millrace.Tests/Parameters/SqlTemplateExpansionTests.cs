using DuckDB.NET.Data;
using Millrace.Definitions;
using Millrace.Parameters;

namespace Millrace.Tests.Parameters;

/// <summary>
/// What a reference becomes in SQL, compared with the query DuckDB parses from the SQL one would write by hand
/// (both sides normalised by DuckDB's own rendering, so the comparison is of parsed statements, not of spelling).
/// </summary>
[Trait("Category", "Security")]
public sealed class SqlTemplateExpansionTests : IDisposable
{
    readonly DuckDBConnection _connection = SqlTrees.Open();

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
        ["col"] = new(ParameterType.String, "amount", "amount"),
    };

    public void Dispose() => _connection.Dispose();

    string Expand(string sql) => Template.ExpandSql(_connection, sql, Values);

    void AssertSame(string expected, string sql) =>
        Assert.Equal(SqlTrees.Shape(_connection, expected), SqlTrees.Shape(_connection, Expand(sql)));

    [Theory]
    [InlineData("SELECT * FROM t LIMIT $limit", "SELECT * FROM t LIMIT CAST('10' AS BIGINT)")]
    [InlineData("SELECT * FROM t WHERE region = $region", "SELECT * FROM t WHERE region = 'north'")]
    [InlineData("SELECT * FROM t WHERE region = ${region}", "SELECT * FROM t WHERE region = 'north'")]
    [InlineData("SELECT * FROM t WHERE name = $name", "SELECT * FROM t WHERE name = 'O''Brien'")]
    [InlineData("SELECT * FROM t WHERE day = $day", "SELECT * FROM t WHERE day = CAST('2024-01-05' AS DATE)")]
    [InlineData("SELECT * FROM t WHERE day = ${run.date}", "SELECT * FROM t WHERE day = CAST('2024-02-01' AS DATE)")]
    [InlineData("SELECT * FROM t WHERE r > $ratio", "SELECT * FROM t WHERE r > CAST('0.5' AS DOUBLE)")]
    [InlineData("SELECT * FROM t WHERE flag = $dry", "SELECT * FROM t WHERE flag = CAST('true' AS BOOLEAN)")]
    [InlineData("SELECT $region AS r", "SELECT 'north' AS r")]
    public void Standing_alone_a_reference_becomes_a_typed_value(string sql, string expected) => AssertSame(expected, sql);

    [Theory]
    [InlineData("SELECT * FROM t WHERE label = 'team-$region'", "SELECT * FROM t WHERE label = 'team-north'")]
    [InlineData("SELECT * FROM t WHERE name = 'Mr ${name}'", "SELECT * FROM t WHERE name = 'Mr O''Brien'")]
    [InlineData("SELECT * FROM t WHERE path LIKE 'dt=${run.date}/%'", "SELECT * FROM t WHERE path LIKE 'dt=2024-02-01/%'")]
    [InlineData("SELECT * FROM t WHERE n = '$limit'", "SELECT * FROM t WHERE n = '10'")]
    [InlineData("SELECT * FROM t WHERE n = E'a\\'$name'", "SELECT * FROM t WHERE n = 'a''O''Brien'")]
    [InlineData("SELECT $$$$dollar $region$$$$ AS d", "SELECT 'dollar north' AS d")]
    [InlineData("SELECT $$tag$$ ${name} $$tag$$ AS d", "SELECT ' O''Brien ' AS d")]
    public void Inside_a_string_of_any_kind_a_reference_becomes_its_text(string sql, string expected) => AssertSame(expected, sql);

    [Theory]
    [InlineData("SELECT \"$col\" FROM t", "SELECT amount FROM t")]
    [InlineData("SELECT total_$col FROM t", "SELECT total_amount FROM t")]
    [InlineData("SELECT 1 AS \"n_$region\"", "SELECT 1 AS n_north")]
    public void Inside_a_name_a_reference_becomes_part_of_the_name(string sql, string expected) => AssertSame(expected, sql);

    [Theory]
    [InlineData("SELECT 1 AS \"n_$attack\"")]
    [InlineData("SELECT * FROM \"$name\"")]
    [InlineData("SELECT total_$attack FROM t")]
    public void A_name_takes_only_identifier_safe_values(string sql)
    {
        var e = Assert.Throws<ParameterException>(() => Expand(sql));
        Assert.Contains("inside a name", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SELECT $region(1)")]
    [InlineData("SELECT CAST(1 AS $region)")]
    public void A_reference_where_DuckDB_reads_syntax_is_refused(string sql) =>
        Assert.Throws<ParameterException>(() => Expand(sql));

    [Fact]
    public void An_injection_attempt_stays_one_value()
    {
        AssertSame("SELECT * FROM t WHERE region = 'x'' OR 1=1 --'", "SELECT * FROM t WHERE region = $attack");
        AssertSame("SELECT * FROM t WHERE region = 'a-x'' OR 1=1 --'", "SELECT * FROM t WHERE region = 'a-$attack'");
    }

    [Fact]
    public void References_in_comments_are_dropped_and_the_comments_kept()
    {
        AssertSame("SELECT 1, 'north'", "SELECT 1 -- uses $region\n, $region");
        AssertSame("SELECT 1 + 0", "SELECT 1 /* $region /* nested $attack */ still $limit */ + 0");
        AssertSame("SELECT 1, 'north'", "SELECT 1 -- bare CR ends it $attack\r, $region");
    }

    [Fact]
    public void Double_dollar_stays_a_literal_dollar_and_SQL_without_references_is_left_alone()
    {
        AssertSame("SELECT '$5' AS price, CAST('10' AS BIGINT)", "SELECT '$$5' AS price, $limit");
        Assert.Equal("SELECT '$5' AS price, CAST('10' AS BIGINT) -- as written", Expand("SELECT '$$5' AS price, $limit -- as written"));
        Assert.Equal("SELECT '$5' -- as written", Expand("SELECT '$$5' -- as written"));
    }

    [Fact]
    public void A_DOUBLE_constant_keeps_its_type_through_the_expansion()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT typeof(x) FROM ({Expand("SELECT 1e3 AS x, $region AS r")})";
        Assert.Equal("DOUBLE", command.ExecuteScalar());
    }

    [Fact]
    public void Expressions_expand_to_one_parenthesised_expression()
    {
        var expression = SqlExpansion.ExpandExpression(_connection, "region = $region -- why\n AND amount > $ratio", Values);
        Assert.StartsWith("(", expression, StringComparison.Ordinal);
        Assert.EndsWith("\n)", expression, StringComparison.Ordinal);
        AssertSame("SELECT * FROM t WHERE region = 'north' AND amount > CAST('0.5' AS DOUBLE)", $"SELECT * FROM t WHERE {expression}");
    }

    [Theory]
    [InlineData("SELECT $region; SELECT 2", "exactly one statement")]
    [InlineData("CREATE TABLE x AS SELECT $region", "must be a single query")]
    [InlineData("SELECT $region FROM", "does not parse")]
    public void SQL_DuckDB_cannot_place_values_in_is_refused_with_the_reason(string sql, string reason)
    {
        var e = Assert.Throws<ParameterException>(() => Expand(sql));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }
}
