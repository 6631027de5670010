using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Definitions;

public sealed class CycleDetectionTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public void Two_steps_feeding_each_other_are_reported_once_as_a_cycle()
    {
        _project.Workflow("loop", """
            name: loop
            steps:
              - id: a
                type: sql
                input: b
                sql: SELECT * FROM b
              - id: b
                type: sql
                input: a
                sql: SELECT * FROM a
            """);

        var error = DefinitionAssert.Single(_project.Check(), "cycle");

        AssertCycle(["a", "b"], error.Message);
        Assert.Equal("workflows/loop.yaml", error.Location.File);
    }

    [Fact]
    public void A_three_step_cycle_is_reported_in_data_flow_order()
    {
        // a feeds b, b feeds c, c feeds a.
        _project.Workflow("loop", """
            name: loop
            steps:
              - id: a
                type: sql
                input: c
                sql: SELECT * FROM c
              - id: b
                type: sql
                input: a
                sql: SELECT * FROM a
              - id: c
                type: sql
                input: b
                sql: SELECT * FROM b
            """);

        var error = DefinitionAssert.Single(_project.Check(), "cycle");

        AssertCycle(["a", "b", "c"], error.Message);
    }

    [Fact]
    public void A_diamond_is_not_a_cycle()
    {
        _project.LakeFile("raw/a.csv", "x\n1\n").Workflow("diamond", """
            name: diamond
            steps:
              - id: a
                type: read
                path: raw/a.csv
              - id: b
                type: sql
                input: a
                sql: SELECT * FROM a
              - id: c
                type: sql
                input: a
                sql: SELECT * FROM a
              - id: d
                type: sql
                inputs: [b, c]
                sql: SELECT * FROM b UNION ALL SELECT * FROM c
            """);

        DefinitionAssert.None(_project.Check());
    }

    /// <summary>The message shows the cycle in data-flow order, starting anywhere: "a -> b -> a" or "b -> a -> b".</summary>
    static void AssertCycle(string[] flow, string message)
    {
        var rotations = Enumerable.Range(0, flow.Length)
            .Select(start => string.Join(" -> ", Enumerable.Range(0, flow.Length + 1).Select(i => flow[(start + i) % flow.Length])))
            .ToList();
        Assert.True(rotations.Any(r => message.Contains(r, StringComparison.Ordinal)),
            $"expected one of [{string.Join(" | ", rotations)}] in: {message}");
    }
}
