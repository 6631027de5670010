using DuckDB.NET.Data;
using Microsoft.ML;
using Microsoft.ML.Data;
using Millrace.Learning;

namespace Millrace.Tests.Learning;

/// <summary>The columnar IDataView over a DuckDB query: types, NULLs, filters, order, row counts, independent cursors.</summary>
public sealed class DuckDbDataViewTests : IDisposable
{
    readonly DuckDBConnection _connection = new("DataSource=:memory:");

    public DuckDbDataViewTests()
    {
        _connection.Open();
        using var command = _connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE t (id INTEGER, amount DOUBLE, active BOOLEAN, region VARCHAR);
            INSERT INTO t VALUES (3, 1.5, true, 'north'), (1, NULL, NULL, NULL), (2, -2.25, false, 'south'), (4, 1e10, true, '');
            """;
        command.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();

    static readonly DataViewColumn[] Columns =
    [
        new("id", FeatureKind.Numeric, "CAST(id AS FLOAT)"),
        new("amount", FeatureKind.Numeric, "CAST(amount AS FLOAT)"),
        new("active", FeatureKind.Boolean, "active"),
        new("region", FeatureKind.Text, "region"),
    ];

    static List<(float Id, float Amount, bool Active, string Region)> Read(IDataView view)
    {
        var rows = new List<(float, float, bool, string)>();
        using var cursor = view.GetRowCursor(view.Schema);
        var id = cursor.GetGetter<float>(view.Schema["id"]);
        var amount = cursor.GetGetter<float>(view.Schema["amount"]);
        var active = cursor.GetGetter<bool>(view.Schema["active"]);
        var region = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["region"]);
        float i = 0, a = 0;
        var b = false;
        var r = default(ReadOnlyMemory<char>);
        while (cursor.MoveNext())
        {
            id(ref i); amount(ref a); active(ref b); region(ref r);
            rows.Add((i, a, b, r.ToString()));
        }
        return rows;
    }

    [Fact]
    public void Columns_have_the_ML_NET_type_of_their_kind()
    {
        var view = new DuckDbDataView(_connection, "t", Columns);

        Assert.Equal(["id", "amount", "active", "region"], view.Schema.Select(c => c.Name));
        Assert.Equal([NumberDataViewType.Single, NumberDataViewType.Single, BooleanDataViewType.Instance, (DataViewType)TextDataViewType.Instance], view.Schema.Select(c => c.Type));
    }

    [Fact]
    public void Rows_are_read_in_order_with_NULLs_as_NaN_false_and_empty()
    {
        var view = new DuckDbDataView(_connection, "t", Columns, orderBy: "id");

        var rows = Read(view);

        Assert.Equal(4, rows.Count);
        Assert.Equal((1f, float.NaN, false, ""), rows[0]);
        Assert.Equal((2f, -2.25f, false, "south"), rows[1]);
        Assert.Equal((3f, 1.5f, true, "north"), rows[2]);
        Assert.Equal((4f, 1e10f, true, ""), rows[3]);
    }

    [Fact]
    public void A_filter_limits_the_rows_and_the_row_count()
    {
        var view = new DuckDbDataView(_connection, "t", Columns, where: "id >= 2", orderBy: "id DESC");

        Assert.Equal(3, view.GetRowCount());
        Assert.Equal([4f, 3f, 2f], Read(view).Select(r => r.Id));
    }

    [Fact]
    public void Cursors_are_independent_and_rereadable()
    {
        var view = new DuckDbDataView(_connection, "t", Columns, orderBy: "id");
        using var first = view.GetRowCursor(view.Schema);
        using var second = view.GetRowCursor(view.Schema);
        var firstId = first.GetGetter<float>(view.Schema["id"]);
        var secondId = second.GetGetter<float>(view.Schema["id"]);
        float a = 0, b = 0;

        Assert.True(first.MoveNext() && first.MoveNext());
        Assert.True(second.MoveNext());
        firstId(ref a);
        secondId(ref b);

        Assert.Equal((2f, 1f), (a, b));
        Assert.Equal((1L, 0L), (first.Position, second.Position));
        Assert.Equal(Read(view), Read(view));
    }

    [Fact]
    public void A_getter_of_the_wrong_type_names_the_column()
    {
        var view = new DuckDbDataView(_connection, "t", Columns);
        using var cursor = view.GetRowCursor(view.Schema);

        var error = Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<bool>(view.Schema["region"]));

        Assert.Contains("column 'region'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ML_NET_transforms_read_through_the_view()
    {
        var ml = new MLContext(0);
        var view = new DuckDbDataView(_connection, "t", Columns, orderBy: "id");
        var model = ml.Transforms.ReplaceMissingValues("amount", replacementMode: Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.Mean).Append(ml.Transforms.Categorical.OneHotEncoding("region")).Fit(view);

        var transformed = model.Transform(view);

        var amounts = transformed.GetColumn<float>("amount").ToList();
        // The NULL amount (id 1) became the mean of the others.
        Assert.InRange(amounts[0], 3.3333e9f, 3.3334e9f);
        Assert.Equal([-2.25f, 1.5f, 1e10f], amounts.Skip(1));
        Assert.Equal(4, transformed.GetColumn<VBuffer<float>>("region").Count());
    }
}
