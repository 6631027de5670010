using System.Data.Common;
using DuckDB.NET.Data;
using Microsoft.Data.Sqlite;

namespace Millrace.Engine;

/// <summary>
/// A run ended because the store could not be written, and its end could not be recorded either: the run stays
/// recorded as running until a later command finds it interrupted and records <see cref="Exception.Message"/>'s cause.
/// </summary>
public sealed class RunNotRecordedException(string message, Exception inner) : Exception(message, inner);

/// <summary>Tells store failures (a lock held past the busy timeout, a full disk, a lost connection) from other errors.</summary>
public static class StoreFailures
{
    /// <summary>True when <paramref name="e"/> comes from the metadata store (not from DuckDB, which is a database too).</summary>
    public static bool IsStoreFailure(Exception e) => e is RunNotRecordedException || (e is DbException && e is not DuckDBException);

    /// <summary>One line for the user: what happened to the store, and SQLite's or PostgreSQL's own words.</summary>
    public static string Describe(Exception e) => e switch
    {
        RunNotRecordedException => e.Message,
        SqliteException { SqliteErrorCode: 5 or 6 } => $"the store is locked by another process and stayed locked longer than the busy timeout ({e.Message.Trim()}); find what holds it (a long-lived 'sqlite3' session, a backup) and retry the run",
        SqliteException { SqliteErrorCode: 13 } => $"the store's disk is full ({e.Message.Trim()}); free space and retry the run",
        SqliteException { SqliteErrorCode: 8 } => $"the store is read-only ({e.Message.Trim()}); check the file's permissions and retry the run",
        _ => $"the store could not be read or written ({e.Message.Trim()})",
    };
}
