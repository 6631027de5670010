using DuckDB.NET.Data;
using Microsoft.ML;
using Microsoft.ML.Data;
using Millrace.Parameters;

namespace Millrace.Learning;

/// <summary>How a DuckDB column appears to ML.NET.</summary>
public enum FeatureKind { Numeric, Boolean, Text, RowNumber }

/// <summary>One column of a <see cref="DuckDbDataView"/>: its name, how ML.NET sees it, and the SQL that yields it.</summary>
public sealed record DataViewColumn(string Name, FeatureKind Kind, string SqlExpression);

/// <summary>
/// A columnar <see cref="IDataView"/> over a DuckDB query: each cursor runs the query on its own connection and
/// ML.NET's getters read the current row straight from DuckDB's reader. No row objects are made: data streams from
/// DuckDB into the trainer or the model. Numeric columns are <c>float</c> (NaN for NULL), booleans <c>bool</c>,
/// text <c>ReadOnlyMemory&lt;char&gt;</c> (empty for NULL), a row number <c>long</c> (carried through a model's transform
/// so that predictions name their row, whatever order the rows come in).
/// </summary>
public sealed class DuckDbDataView : IDataView
{
    readonly DuckDBConnection _database;
    readonly string _relation;
    readonly string? _where;
    readonly string? _orderBy;
    readonly IReadOnlyList<DataViewColumn> _columns;
    long? _rowCount;

    /// <param name="database">A connection to the run's database; each cursor duplicates it.</param>
    /// <param name="relation">A table, view or parenthesised query.</param>
    /// <param name="columns">The columns to expose, each with its SQL expression over the relation.</param>
    /// <param name="where">An optional filter (e.g. the holdout split).</param>
    /// <param name="orderBy">An optional order, for row-aligned reads (scoring).</param>
    public DuckDbDataView(DuckDBConnection database, string relation, IReadOnlyList<DataViewColumn> columns, string? where = null, string? orderBy = null)
    {
        _database = database;
        _relation = relation;
        _where = where;
        _orderBy = orderBy;
        _columns = columns;
        var builder = new DataViewSchema.Builder();
        foreach (var column in columns)
            builder.AddColumn(column.Name, column.Kind switch
            {
                FeatureKind.Numeric => NumberDataViewType.Single,
                FeatureKind.Boolean => BooleanDataViewType.Instance,
                FeatureKind.RowNumber => NumberDataViewType.Int64,
                _ => TextDataViewType.Instance,
            });
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    /// <summary>The SELECT each cursor runs.</summary>
    public string Sql =>
        $"SELECT {string.Join(", ", _columns.Select(c => $"{c.SqlExpression} AS {SqlText.Identifier(c.Name)}"))} FROM {_relation}" +
        (_where is null ? "" : $" WHERE {_where}") + (_orderBy is null ? "" : $" ORDER BY {_orderBy}");

    public long? GetRowCount()
    {
        if (_rowCount is null)
        {
            using var connection = _database.Duplicate();
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT COUNT(*) FROM {_relation}" + (_where is null ? "" : $" WHERE {_where}");
            _rowCount = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
        return _rowCount;
    }

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, columnsNeeded.Select(c => c.Index).ToHashSet());

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    sealed class Cursor : DataViewRowCursor
    {
        readonly DuckDbDataView _view;
        readonly HashSet<int> _active;
        readonly DuckDBConnection _connection;
        readonly DuckDBCommand _command;
        readonly DuckDBDataReader _reader;
        long _position = -1;
        bool _disposed;

        public Cursor(DuckDbDataView view, HashSet<int> active)
        {
            _view = view;
            _active = active;
            _connection = view._database.Duplicate();
            _connection.Open();
            _command = _connection.CreateCommand();
            _command.CommandText = view.Sql;
            _reader = (DuckDBDataReader)_command.ExecuteReader();
        }

        public override DataViewSchema Schema => _view.Schema;
        public override long Position => _position;
        public override long Batch => 0;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override bool MoveNext()
        {
            if (_disposed || !_reader.Read()) return false;
            _position++;
            return true;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            var ordinal = column.Index;
            Delegate getter = _view._columns[ordinal].Kind switch
            {
                FeatureKind.Numeric => (ValueGetter<float>)((ref float value) => value = _reader.IsDBNull(ordinal) ? float.NaN : _reader.GetFloat(ordinal)),
                FeatureKind.Boolean => (ValueGetter<bool>)((ref bool value) => value = !_reader.IsDBNull(ordinal) && _reader.GetBoolean(ordinal)),
                FeatureKind.RowNumber => (ValueGetter<long>)((ref long value) => value = _reader.GetInt64(ordinal)),
                _ => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = _reader.IsDBNull(ordinal) ? ReadOnlyMemory<char>.Empty : _reader.GetString(ordinal).AsMemory()),
            };
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"column '{column.Name}' is {column.Type}, not {typeof(TValue).Name}");
        }

        protected override void Dispose(bool disposing)
        {
            if (_disposed) return;
            _disposed = true;
            if (disposing)
            {
                _reader.Dispose();
                _command.Dispose();
                _connection.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
