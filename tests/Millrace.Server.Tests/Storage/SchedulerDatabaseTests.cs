using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Millrace.Server.Scheduling;
using Millrace.Server.Tests.TestSupport;
using Millrace.Tests.TestSupport;
using Npgsql;

namespace Millrace.Server.Tests.Storage;

/// <summary>
/// Where the scheduler keeps its jobs, as the server store says: in Quartz's clustered job store inside the shared
/// PostgreSQL database, or in memory beside an embedded SQLite store.
/// </summary>
public sealed class SchedulerDatabaseTests
{
    static ProjectFolder Project(string? store) =>
        new ProjectFolder("sched", store is null ? "id: sched\n" : $"id: sched\nstore: '{store}'\n")
            .Workflow("tick", "name: tick\nsteps:\n  - id: now\n    type: sql\n    sql: SELECT ${run.date} AS day\n")
            .Pipeline("nightly", "name: nightly\nworkflows: [tick]\nschedule: { cron: \"0 3 * * *\" }\n");

    [SkippableFact]
    public async Task On_a_postgres_store_the_schedules_live_in_the_clustered_job_store_of_that_database()
    {
        await using var database = await PostgresTestDatabase.CreateAsync("millrace_scheduler");
        using var project = Project(database.ConnectionString);
        await using var server = await TestServer.StartAsync(project);

        Assert.True(server.App.Services.GetRequiredService<PipelineScheduler>().Clustered);
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT COUNT(*) FROM qrtz_triggers WHERE sched_name = @name", connection);
        command.Parameters.AddWithValue("name", PipelineScheduler.ClusterName);
        Assert.Equal(1L, Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task On_a_sqlite_store_the_schedules_live_in_memory()
    {
        using var project = Project(null);
        await using var server = await TestServer.StartAsync(project);

        Assert.False(server.App.Services.GetRequiredService<PipelineScheduler>().Clustered);
        Assert.Null(server.Host("sched").ServerStore.SharedDatabase);
    }
}
