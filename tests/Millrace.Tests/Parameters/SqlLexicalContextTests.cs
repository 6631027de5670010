using System.Globalization;
using System.Text;
using DuckDB.NET.Data;
using Millrace.Definitions;
using Millrace.Parameters;

namespace Millrace.Tests.Parameters;

/// <summary>
/// No value can change the statement it is placed in, whatever lexical context the reference stands in: randomly
/// generated queries mix code, strings, E-strings, dollar-quoted strings (tagged and not), nested block comments,
/// line comments ended by LF, CR or CR LF, and quoted identifiers, and take hostile values built from the characters
/// that end those contexts. For each, DuckDB's parse of the expanded query must equal its parse of the same query
/// expanded with a harmless marker, with the marker's text replaced by the value inside string constants only.
/// </summary>
[Trait("Category", "Security")]
public sealed class SqlLexicalContextTests : IDisposable
{
    const string Marker = "zqmarker";
    readonly DuckDBConnection _connection = SqlTrees.Open();

    public void Dispose() => _connection.Dispose();

    static Dictionary<string, ParameterValue> With(string value) => new() { ["v"] = new(ParameterType.String, value, value) };

    static readonly string[] Attacks =
    [
        "x' OR 1=1 --", "x\\' OR 1=1 --", "x\" OR 1=1 --", "x\nOR 1=1", "x */ OR 1=1 /*", "*/ */ */ OR 1=1 --",
        "*/ WHERE false UNION ALL SELECT 0, content, 0 FROM read_text($$/etc/hostname$$) --",
        "$$ || (SELECT content FROM read_text('/etc/hostname')) || $$", "$tag$ OR 1=1 $tag$", "x\r OR 1=1", "x\r\nOR 1=1 /*",
        "'; COPY (SELECT 1) TO '/tmp/millrace-injected.csv'; --", "E'\\'' OR 1=1", "\\", "'", "\"", "$", "--", "/*",
    ];

    static readonly string[] Alphabet = ["'", "\"", "\\", "*/", "/*", "--", "$$", "$", "$t$", "\n", "\r", ";", "(", ")", "E'", " OR 1=1 ", "x", " ", "\t", "é"];

    // A random query in which $v stands in code, in strings of every kind and in comments of every kind.
    static string RandomQuery(Random random)
    {
        var items = new List<string> { "region" };
        var builder = new StringBuilder("SELECT ");
        var n = random.Next(1, 6);
        for (var i = 0; i < n; i++)
        {
            items.Add(random.Next(9) switch
            {
                0 => "$v",
                1 => "'it''s $v here'",
                2 => "E'a\\'b $v \\\\'",
                3 => "$$$$ dollar $v 'quoted' $$$$",
                4 => "$$tag$$ tagged $v $$$$ $$tag$$",
                5 => "\"region\" || $v",
                6 => "'$v' || '${v}'",
                7 => "concat($v, 'x')",
                _ => "length(${v})",
            });
        }
        builder.AppendJoin(", ", items.Select((item, i) => $"{item} AS c{i}"));
        builder.Append(Comment(random)).Append(" FROM t").Append(Comment(random)).Append(" WHERE region <> $v").Append(Comment(random));
        return builder.ToString();
    }

    static string Comment(Random random) => random.Next(7) switch
    {
        0 => " -- it's $v\n",
        1 => " -- bare CR $v */\r",
        2 => " -- CR LF \"$v\r\n",
        3 => " /* $v */ ",
        4 => " /* outer /* nested $v */ still in the comment $v ' */ ",
        5 => " /* /* /* $v */ */ */ ",
        _ => " ",
    };

    static string RandomValue(Random random)
    {
        if (random.Next(3) == 0) return Attacks[random.Next(Attacks.Length)];
        var builder = new StringBuilder();
        for (var i = random.Next(1, 12); i > 0; i--) builder.Append(Alphabet[random.Next(Alphabet.Length)]);
        return builder.ToString();
    }

    [Fact]
    public void No_value_changes_the_parsed_statement_in_any_lexical_context()
    {
        var random = new Random(20261202);
        var refused = 0;
        for (var i = 0; i < 400; i++)
        {
            var sql = RandomQuery(random);
            var value = RandomValue(random);
            var expected = SqlTrees.Shape(_connection, Template.ExpandSql(_connection, sql, With(Marker)), s => s.Replace(Marker, value, StringComparison.Ordinal));
            string expanded;
            try { expanded = Template.ExpandSql(_connection, sql, With(value)); }
            catch (ParameterException e) when (e.Message.Contains("and its value holds", StringComparison.Ordinal))
            {
                // A dollar-quoted string cannot escape its own delimiter: such a value is refused, never placed.
                refused++;
                continue;
            }
            Assert.True(expected == SqlTrees.Shape(_connection, expanded),
                string.Create(CultureInfo.InvariantCulture, $"case {i}: {sql}\nvalue: {value}\nexpanded: {expanded}"));
        }
        Assert.InRange(refused, 0, 100);
    }

    static long Count(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "CREATE OR REPLACE TABLE t AS SELECT * FROM (VALUES ('north'), ('south'), ('east')) AS v(region)";
        command.ExecuteNonQuery();
        command.CommandText = $"SELECT count(*) FROM ({sql}\n)";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData("x' OR 1=1 --")]
    [InlineData("x\\' OR 1=1 --")]
    [InlineData("x\" OR 1=1 --")]
    [InlineData("x\nOR 1=1")]
    [InlineData("x */ OR 1=1 /*")]
    [InlineData("*/ OR 1=1 --")]
    [InlineData("*/ OR 1=1 UNION ALL SELECT content FROM read_text($$/etc/hostname$$) --")]
    [InlineData("$$ OR 1=1 OR $$")]
    public void No_value_escapes_its_context_when_the_query_runs(string attack)
    {
        var queries = new[]
        {
            "SELECT * FROM t -- don't count the refunds\nWHERE region = $v",
            "SELECT * FROM t /* it's here */ WHERE region = $v",
            "SELECT * FROM t /* off: /* note */ AND region = $v */ WHERE region = 'none'",
            "SELECT * FROM t -- a bare CR ends this comment $v\rWHERE region = 'none'",
            "SELECT * FROM t WHERE region = 'prefix-$v'",
            "SELECT * FROM t WHERE region = E'prefix-$v'",
            "SELECT * FROM t WHERE region = $$$$prefix-$v$$$$",
            "SELECT * FROM t WHERE region = $$q$$prefix-$v$$q$$",
            "SELECT * FROM t WHERE region = \"region\" AND region = $v -- and $v in a comment",
        };
        foreach (var sql in queries)
        {
            string expanded;
            try { expanded = Template.ExpandSql(_connection, sql, With(attack)); }
            catch (ParameterException e) when (sql.Contains("$$$$", StringComparison.Ordinal) || sql.Contains("$$q$$", StringComparison.Ordinal))
            {
                Assert.Contains("and its value holds", e.Message, StringComparison.Ordinal);
                continue;
            }
            Assert.True(Count(_connection, expanded) == 0, $"{sql}\nexpanded to\n{expanded}");
        }
    }

    [Fact]
    public void A_harmless_value_selects_its_rows_in_every_context()
    {
        Assert.Equal(1, Count(_connection, Template.ExpandSql(_connection, "SELECT * FROM t -- don't\nWHERE region = $v", With("north"))));
        Assert.Equal(1, Count(_connection, Template.ExpandSql(_connection, "SELECT * FROM t WHERE region = E'$v'", With("north"))));
        Assert.Equal(1, Count(_connection, Template.ExpandSql(_connection, "SELECT * FROM t WHERE \"region\" = '$v'", With("north"))));
        Assert.Equal(1, Count(_connection, Template.ExpandSql(_connection, "SELECT * FROM t WHERE region = $$$$$v$$$$", With("north"))));
    }
}
