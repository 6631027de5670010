using Millrace.Cli.Tests.TestSupport;
using Millrace.Tests.TestSupport;

namespace Millrace.Cli.Tests.Commands;

/// <summary>`millrace init`, `quickstart` and `steps` from a user's first minutes.</summary>
public sealed class InitQuickstartStepsTests
{
    [Fact]
    public async Task Init_makes_a_project_that_validates_and_runs()
    {
        using var directory = new TempDirectory();
        var root = Path.Combine(directory.Path, "demo");
        var init = await Shell.RunAsync("init", root);
        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.Equal(0, (await Shell.RunAsync("validate", "-p", root)).ExitCode);
        SchemaValidation.AssertAccepted(root);
        var run = await Shell.RunAsync("run", "daily", "-p", root);
        Assert.True(run.ExitCode == 0, run.ToString());
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var report = File.ReadAllText(Path.Combine(root, "lake", "reports", "revenue", $"dt={today:yyyy-MM-dd}", "revenue.csv"));
        Assert.StartsWith("region,orders,revenue", report, StringComparison.Ordinal);
        Assert.Equal(CliApp.Failure, (await Shell.RunAsync("init", root)).ExitCode);
    }

    [Fact]
    public async Task Quickstart_without_serving_runs_the_simulated_days_trains_and_scores()
    {
        using var directory = new TempDirectory();
        var root = Path.Combine(directory.Path, "qs");
        var result = await Shell.RunAsync("quickstart", "--no-serve", "--days", "19", "--customers", "400", "--dir", root);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("day 2026-01-19", result.Output, StringComparison.Ordinal);
        Assert.Contains("v1 auc", result.Output, StringComparison.Ordinal);
        Assert.Contains("champion -> v1: first version of 'churn'", result.Output, StringComparison.Ordinal);

        SchemaValidation.AssertAccepted(root);
        var runs = await Committed.RunsAsync(root);
        AssertDataAwareLoop(runs, result.Output);
        var customers = await Committed.RowsAsync(root, "customers", "customer_id");
        Assert.True(customers.Count >= 400, $"{customers.Count} customers");
        Assert.Equal(customers.Count, customers.Select(c => c.Split(',')[0]).Distinct().Count());
        Assert.True(File.Exists(Path.Combine(root, "lake", "reports", "daily_summary", "dt=2026-01-19", "summary.csv")));
        Assert.True(File.Exists(Path.Combine(root, "lake", "predictions", "churn", "dt=2026-01-19", "part-0.parquet")));
        var top = File.ReadAllLines(Path.Combine(root, "lake", "reports", "churn_risk", "dt=2026-01-19", "top_at_risk.csv"));
        Assert.StartsWith("customer_id,region,plan", top[0], StringComparison.Ordinal);
        Assert.True(top.Length > 1, "the top-at-risk report is empty");
        var page = File.ReadAllText(Path.Combine(root, "lake", "reports", "churn_risk", "2026-01-19", "index.html"));
        Assert.Contains("<h1>Daily churn risk</h1>", page, StringComparison.Ordinal);
        Assert.Contains("<svg class=\"chart\"", page, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(root, "lake", "reports", "model_churn", "2026-01-19", "index.html")), "no model report after the last training");
        var predictions = Committed.Query($"SELECT count(*), min(model_version), count(probability) FROM '{Path.Combine(root, "lake", "predictions", "churn", "dt=2026-01-19", "part-0.parquet")}'");
        var fields = predictions.Single().Split(',');
        Assert.True(long.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Equal(fields[0], fields[2]); // every active customer has a probability
        Assert.True(int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) >= 1);

        var listed = await Shell.RunAsync("runs", "-p", root);
        Assert.Contains("prediction", listed.Output, StringComparison.Ordinal);
        Assert.Contains("training", listed.Output, StringComparison.Ordinal);
        var models = await Shell.RunAsync("models", "show", "churn", "-p", root);
        Assert.True(models.ExitCode == 0, models.ToString());
        Assert.Contains("champion", models.Output, StringComparison.Ordinal);

        // A second quickstart replaces its own folder; it never overwrites a folder it did not make.
        Assert.Equal(0, (await Shell.RunAsync("quickstart", "--no-serve", "--days", "1", "--customers", "50", "--dir", root)).ExitCode);
        var foreign = Path.Combine(directory.Path, "mine");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, "keep.txt"), "x");
        Assert.Equal(CliApp.Failure, (await Shell.RunAsync("quickstart", "--no-serve", "--days", "1", "--dir", foreign)).ExitCode);
        Assert.True(File.Exists(Path.Combine(foreign, "keep.txt")));
    }

    [SkippableFact]
    public async Task Quickstart_on_a_PostgreSQL_store_and_an_S3_lake_runs_the_same_loop()
    {
        await using var database = await PostgresTestDatabase.CreateAsync("millrace_quickstart");
        using var bucket = await S3TestBucket.CreateAsync();
        using var directory = new TempDirectory();
        var root = Path.Combine(directory.Path, "qs");
        var environment = new Dictionary<string, string>
        {
            ["AWS_ENDPOINT_URL"] = S3TestBucket.Endpoint!,
            ["AWS_ACCESS_KEY_ID"] = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID")!,
            ["AWS_SECRET_ACCESS_KEY"] = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY")!,
        };

        var result = await Shell.RunProcessAsync(environment, TimeSpan.FromMinutes(10), "quickstart", "--no-serve", "--days", "19", "--customers", "400",
            "--dir", root, "--store", database.ConnectionString, "--lake", $"s3://{bucket.Name}/churn");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("champion -> v1: first version of 'churn'", result.Output, StringComparison.Ordinal);
        // This test process reads the lake too: it names the endpoint in the definitions instead of the environment.
        File.AppendAllText(Path.Combine(root, "millrace.yaml"), $"lake_options: {{ endpoint: \"{S3TestBucket.Endpoint}\" }}\n");
        var runs = await Committed.RunsAsync(root);
        AssertDataAwareLoop(runs, result.Output);
        // Everything the loop published is in the bucket; the project folder holds only the cache.
        var keys = await bucket.KeysAsync("churn/");
        Assert.Contains("churn/predictions/churn/dt=2026-01-19/part-0.parquet", keys);
        Assert.Contains("churn/reports/churn_risk/2026-01-19/index.html", keys);
        Assert.Contains(keys, k => k.StartsWith("churn/models/churn/v1/", StringComparison.Ordinal));
        Assert.DoesNotContain(keys, k => k.StartsWith("churn/_staging/", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(root, "lake")));
        var customers = await Committed.RowsAsync(root, "customers", "customer_id");
        Assert.True(customers.Count >= 400, $"{customers.Count} customers");
        Assert.Equal(customers.Count, customers.Select(c => c.Split(',')[0]).Distinct().Count());

        // The same store refuses a second quickstart: it is not empty any more.
        var again = await Shell.RunProcessAsync(environment, TimeSpan.FromMinutes(2), "quickstart", "--no-serve", "--days", "1", "--dir", root,
            "--store", database.ConnectionString, "--lake", $"s3://{bucket.Name}/other");
        Assert.Equal(CliApp.UsageError, again.ExitCode);
        Assert.Contains("needs an empty store", again.Error, StringComparison.Ordinal);
    }

    /// <summary>
    /// The loop of 19 days as the landing trigger ran it: one run per date when its feeds landed, a rerun of
    /// 2026-01-12 once its late events landed (its first run's outputs stale until then), and 2026-01-16's customers
    /// after the deadline: both alerts recorded, then met late when the date ran.
    /// </summary>
    static void AssertDataAwareLoop(IReadOnlyList<Millrace.Storage.Run> runs, string output)
    {
        var prediction = runs.Where(r => r.Target == "prediction").ToList();
        Assert.Equal(20, prediction.Count);
        Assert.All(prediction, r => Assert.Equal(Millrace.Storage.TriggerKind.Landing, r.Trigger));
        Assert.Equal(19, prediction.Select(r => r.RunDate).Distinct().Count());
        var rerun = Assert.Single(prediction, r => r.RunKey!.StartsWith("late:", StringComparison.Ordinal));
        Assert.Equal(new DateOnly(2026, 1, 12), rerun.RunDate);
        Assert.Equal(3, runs.Count(r => r.Target == "training"));
        Assert.All(runs, r => Assert.Equal(Millrace.Storage.RunStatus.Succeeded, r.Status));
        // Run times are the simulated ones: each date ran at 04:11 the next morning (its rerun a day later, with the late
        // events), 2026-01-16 after its customers landed at 09:00.
        Assert.Equal(new DateOnly(2026, 1, 14), DateOnly.FromDateTime(rerun.CreatedAt.UtcDateTime));
        Assert.All(prediction.Where(r => r != rerun && r.RunDate != new DateOnly(2026, 1, 16)), r => Assert.Equal(r.RunDate.AddDays(1), DateOnly.FromDateTime(r.CreatedAt.UtcDateTime)));
        Assert.True(prediction.Single(r => r.RunDate == new DateOnly(2026, 1, 16)).CreatedAt.UtcDateTime.Hour >= 9);

        Assert.Contains("runs by trigger: prediction 19 landing, 1 landing (late-file rerun); training 3 schedule", output, StringComparison.Ordinal);
        Assert.Contains($"published for 2026-01-12 (late or changed files for 2026-01-12 after run", output, StringComparison.Ordinal);
        Assert.Contains($"cleared by run {rerun.Id}", output, StringComparison.Ordinal);
        Assert.Contains("alert: deadline_missed for 2026-01-16 (due 2026-01-17 07:00Z, 07:00 UTC): no run for 2026-01-16; met late at 09:", output, StringComparison.Ordinal);
        Assert.Contains("alert: freshness_missed for 2026-01-16 (due 2026-01-17 05:00Z, 05:00 UTC): no file matches raw/customers/dt=2026-01-16/*.csv; met late at 09:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("still open", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Steps_lists_the_catalog_as_in_the_golden_file()
    {
        var result = await Shell.RunAsync("steps");
        Assert.Equal(0, result.ExitCode);
        var golden = Path.Combine(AppContext.BaseDirectory, "Golden", "steps.txt");
        if (Environment.GetEnvironmentVariable("MILLRACE_UPDATE_GOLDEN") == "1")
            File.WriteAllText(Path.Combine(SourceDirectory(), "Golden", "steps.txt"), result.Output);
        Assert.Equal(File.ReadAllText(golden).ReplaceLineEndings("\n"), result.Output.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Steps_of_one_kind_lists_its_options_and_an_unknown_kind_is_refused()
    {
        var read = await Shell.RunAsync("steps", "read");
        Assert.Equal(0, read.ExitCode);
        foreach (var option in new[] { "path", "format", "schema", "incremental", "allow_empty" })
            Assert.Contains(option, read.Output, StringComparison.Ordinal);
        var unknown = await Shell.RunAsync("steps", "nope");
        Assert.Equal(CliApp.UsageError, unknown.ExitCode);
    }

    [Fact]
    public async Task Schema_prints_the_json_schema_of_a_kind_of_file_and_steps_markdown_prints_the_docs_table()
    {
        var workflow = await Shell.RunAsync("schema", "--kind", "workflow");
        Assert.True(workflow.ExitCode == 0, workflow.ToString());
        using (var document = System.Text.Json.JsonDocument.Parse(workflow.Output))
        {
            Assert.Equal("https://json-schema.org/draft/2020-12/schema", document.RootElement.GetProperty("$schema").GetString());
            Assert.False(document.RootElement.GetProperty("$defs").GetProperty("step_read").GetProperty("additionalProperties").GetBoolean());
        }
        Assert.Equal(CliApp.UsageError, (await Shell.RunAsync("schema", "--kind", "steps")).ExitCode);

        var table = await Shell.RunAsync("steps", "sql", "--markdown");
        Assert.Equal(0, table.ExitCode);
        Assert.StartsWith("| option | type | default | meaning |\n| --- | --- | --- | --- |\n| `sql` | a query | required |", table.Output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetDirectoryName(Path.GetDirectoryName(path))!;
}
