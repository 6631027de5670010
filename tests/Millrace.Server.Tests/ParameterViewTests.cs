using Millrace.Engine;
using Millrace.Parameters;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Server.Ui;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>A pipeline's view lists the parameters its runs take (the project's, its workflows', its own), and the UI's example is one it accepts.</summary>
public sealed class ParameterViewTests : IAsyncLifetime
{
    readonly ProjectFolder _project = new ProjectFolder("params", "id: params\nparameters:\n  tenant: { default: acme }\n")
        .Workflow("prepare", "name: prepare\nparameters:\n  window_days: { type: int, default: 14, description: Days back. }\nsteps:\n  - { id: one, type: sql, sql: 'SELECT $window_days AS d' }\n")
        .Workflow("insights", "name: insights\nparameters:\n  high_risk: { type: double, default: 0.5 }\n  top: { type: int, default: 25 }\nsteps:\n  - { id: one, type: sql, sql: 'SELECT $top AS t, $high_risk AS h' }\n")
        .Pipeline("prediction", "name: prediction\nworkflows: [prepare, insights]\nparameters:\n  cutoff: { type: date }\n");
    TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(_project);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _project.Dispose();
    }

    [Fact]
    public async Task A_pipelines_view_lists_the_parameters_of_its_workflows_and_the_project_with_types_and_defaults()
    {
        using var viewer = _server.Client(await _server.TokenAsync("params", TokenRole.Viewer));

        var view = await viewer.GetJsonAsync("/api/v1/projects/params/pipelines/prediction");

        var parameters = view.GetProperty("pipeline").GetProperty("parameters").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => (Type: p.GetProperty("type").GetString(), Default: p.GetProperty("default").GetString(), In: p.GetProperty("declaredIn").GetString()));
        Assert.Equal(["cutoff", "high_risk", "tenant", "top", "window_days"], parameters.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(("int", "14", "workflow prepare"), parameters["window_days"]);
        Assert.Equal(("double", "0.5", "workflow insights"), parameters["high_risk"]);
        Assert.Equal(("date", null, "pipeline"), parameters["cutoff"]);
        Assert.Equal(("string", "acme", "project"), parameters["tenant"]);
        var listed = (await viewer.GetJsonAsync("/api/v1/projects/params/pipelines"))[0].GetProperty("parameters").GetArrayLength();
        Assert.Equal(5, listed);
        var workflow = await viewer.GetJsonAsync("/api/v1/projects/params/workflows/prepare");
        Assert.Equal(2, workflow.GetProperty("workflow").GetProperty("parameters").GetArrayLength());
    }

    [Fact]
    public void The_ui_run_example_is_made_of_declared_parameters_and_binds()
    {
        var host = _server.Host("params");
        var example = PipelinePages.RunExample(host.Runner.DeclaredParameters("prediction").Values, host.Clock.GetUtcNow());

        Assert.DoesNotContain("region", example, StringComparison.Ordinal);
        Assert.StartsWith("--var cutoff=", example, StringComparison.Ordinal);
        var run = host.Runner.Prepare(new RunRequest("prediction", VarParser.Parse(example), TriggerKind.Api, null));
        Assert.Equal("prediction", run.Target);
        // The example date is today by the server's clock.
        Assert.Equal("--var run.date=2031-05-06", PipelinePages.RunExample([], new DateTimeOffset(2031, 5, 6, 23, 0, 0, TimeSpan.Zero)));
    }
}
