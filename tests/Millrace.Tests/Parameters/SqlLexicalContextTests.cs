using DuckDB.NET.Data;
using Millrace.Definitions;
using Millrace.Parameters;

namespace Millrace.Tests.Parameters;

/// <summary>
/// A parameter in SQL is rendered by where it stands (code, string, E-string, identifier, comment), so no value can
/// end the string, identifier or comment it is in. Each case is checked against DuckDB itself: the query must
/// return exactly the rows it would with a harmless value.
/// </summary>
public sealed class SqlLexicalContextTests
{
    static IReadOnlyDictionary<string, ParameterValue> With(string value) => new Dictionary<string, ParameterValue>
    {
        ["v"] = new(ParameterType.String, value, value),
    };

    static long Count(string sql)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "CREATE TABLE t AS SELECT * FROM (VALUES ('north'), ('south'), ('east')) AS v(region);";
        command.ExecuteNonQuery();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData("x' OR 1=1 --")]
    [InlineData("x\\' OR 1=1 --")]
    [InlineData("x\" OR 1=1 --")]
    [InlineData("x\nOR 1=1")]
    [InlineData("x */ OR 1=1 /*")]
    public void No_value_escapes_its_lexical_context(string attack)
    {
        var queries = new[]
        {
            "SELECT count(*) FROM t -- don't count the refunds\nWHERE region = $v",
            "SELECT count(*) FROM t /* it's here */ WHERE region = $v",
            "SELECT count(*) FROM t WHERE region = 'prefix-$v'",
            "SELECT count(*) FROM t WHERE region = E'prefix-$v'",
            "SELECT count(*) FROM t WHERE region = \"region\" AND region = $v -- and $v in a comment",
            "SELECT count(*) FROM t WHERE region = $v /* $v */",
        };
        foreach (var sql in queries)
        {
            var expanded = Template.ExpandSql(sql, With(attack));
            Assert.True(Count(expanded) == 0, $"{sql}{Environment.NewLine}expanded to{Environment.NewLine}{expanded}");
        }
    }

    [Fact]
    public void A_reference_in_a_comment_is_left_as_written()
    {
        Assert.Equal("SELECT 1 -- uses $v\n, 'north'", Template.ExpandSql("SELECT 1 -- uses $v\n, $v", With("north")));
        Assert.Equal("SELECT 1 /* $v */ + 0", Template.ExpandSql("SELECT 1 /* $v */ + 0", With("north")));
    }

    [Fact]
    public void A_harmless_value_selects_its_rows_in_every_context()
    {
        Assert.Equal(1, Count(Template.ExpandSql("SELECT count(*) FROM t -- don't\nWHERE region = $v", With("north"))));
        Assert.Equal(1, Count(Template.ExpandSql("SELECT count(*) FROM t WHERE region = E'$v'", With("north"))));
        Assert.Equal(1, Count(Template.ExpandSql("SELECT count(*) FROM t WHERE \"region\" = '$v'", With("north"))));
    }
}
