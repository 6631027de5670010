using System.Globalization;
using Millrace.Definitions;
using Millrace.Storage;

namespace Millrace.Server.Ui;

/// <summary>
/// Draws a workflow's DAG as inline SVG: steps are boxes, each input an arrow into the step that reads it, laid out
/// left to right by topological level (a step sits one column right of its furthest input). Datasets read from the
/// lake are drawn as dashed boxes in the first column. On a run's page each step is coloured by its status.
/// </summary>
static class DagSvg
{
    const int BoxWidth = 190, BoxHeight = 44, ColumnGap = 56, RowGap = 16, Margin = 12;

    /// <summary>One box of the drawing.</summary>
    sealed record Node(string Id, string Label, string Kind, bool Dataset)
    {
        public int Level { get; set; }
        public int Row { get; set; }
        public double X => Margin + Level * (BoxWidth + ColumnGap);
        public double Y => Margin + Row * (BoxHeight + RowGap);
    }

    /// <param name="workflow">The workflow to draw.</param>
    /// <param name="steps">The step runs of a run, to colour the boxes by status and show rows and time; null on definition pages.</param>
    /// <param name="idPrefix">Makes the SVG's element ids unique on a page with several drawings.</param>
    public static Html Render(WorkflowDefinition workflow, IReadOnlyList<StepRun>? steps, string idPrefix)
    {
        var stepIds = workflow.Steps.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        var nodes = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var input in workflow.Steps.SelectMany(s => s.Inputs).Where(i => !stepIds.Contains(i)).Distinct(StringComparer.Ordinal))
            nodes["dataset:" + input] = new Node("dataset:" + input, input, "dataset", Dataset: true);
        foreach (var step in workflow.Steps) nodes[step.Id] = new Node(step.Id, step.Id, step.Type, Dataset: false);
        string Key(string input) => stepIds.Contains(input) ? input : "dataset:" + input;
        var inputsOf = workflow.Steps.ToDictionary(s => s.Id, s => s.Inputs.Select(Key).Distinct(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);

        // Level: datasets 0; a step one more than its furthest input (steps without inputs, such as reads, are 0).
        var visiting = new HashSet<string>(StringComparer.Ordinal);
        int LevelOf(string id)
        {
            var node = nodes[id];
            if (node.Dataset || !visiting.Add(id)) return node.Level;
            var inputs = inputsOf[id];
            node.Level = inputs.Count == 0 ? 0 : inputs.Max(i => LevelOf(i) + 1);
            return node.Level;
        }
        foreach (var step in workflow.Steps) LevelOf(step.Id);
        // A dataset sits just before its first reader, so its arrows do not cross the columns in between.
        foreach (var dataset in nodes.Values.Where(n => n.Dataset))
            dataset.Level = Math.Max(0, workflow.Steps.Where(s => inputsOf[s.Id].Contains(dataset.Id)).Select(s => nodes[s.Id].Level).DefaultIfEmpty(1).Min() - 1);

        // Rows: each column in order of the mean row of its inputs (fewer crossings), then as written.
        var order = nodes.Values.Select((n, i) => (n, i)).ToDictionary(x => x.n.Id, x => x.i, StringComparer.Ordinal);
        foreach (var column in nodes.Values.GroupBy(n => n.Level).OrderBy(g => g.Key))
        {
            var sorted = column.OrderBy(n => n.Dataset || inputsOf[n.Id].Count == 0 ? order[n.Id] : inputsOf[n.Id].Average(i => nodes[i].Row * 1000.0 + order[i] / 1000.0))
                .ThenBy(n => order[n.Id]).ToList();
            for (var row = 0; row < sorted.Count; row++) sorted[row].Row = row;
        }

        var levels = nodes.Values.Count == 0 ? 1 : nodes.Values.Max(n => n.Level) + 1;
        var rows = nodes.Values.Count == 0 ? 1 : nodes.Values.GroupBy(n => n.Level).Max(g => g.Count());
        var width = Margin * 2 + levels * BoxWidth + (levels - 1) * ColumnGap;
        var height = Margin * 2 + rows * BoxHeight + (rows - 1) * RowGap;
        var marker = idPrefix + "-arrow";
        var byStep = (steps ?? []).Where(s => s.Workflow == workflow.Name).GroupBy(s => s.StepId).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);

        var edges = workflow.Steps.SelectMany(step => inputsOf[step.Id].Select(input => Edge(nodes[input], nodes[step.Id], marker)));
        var boxes = nodes.Values.Select(n => Box(n, n.Dataset ? null : byStep.GetValueOrDefault(n.Id), steps is not null));
        return Html.Of($"""
            <div class="dag"><svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="workflow {workflow.Name}: {workflow.Steps.Count} steps">
            <defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#5c6b7a"/></marker></defs>
            {Html.Join(edges)}{Html.Join(boxes)}
            </svg></div>
            """);
    }

    static Html Edge(Node from, Node to, string marker)
    {
        var (x1, y1) = (from.X + BoxWidth, from.Y + BoxHeight / 2.0);
        var (x2, y2) = (to.X - 2, to.Y + BoxHeight / 2.0);
        var bend = Math.Max(24, (x2 - x1) / 2);
        var d = string.Create(CultureInfo.InvariantCulture, $"M {x1:0.#} {y1:0.#} C {x1 + bend:0.#} {y1:0.#}, {x2 - bend:0.#} {y2:0.#}, {x2:0.#} {y2:0.#}");
        return Html.Of($"<path class=\"edge\" d=\"{d}\" fill=\"none\" stroke=\"#5c6b7a\" stroke-width=\"1.4\" marker-end=\"url(#{marker})\"/>");
    }

    static Html Box(Node node, StepRun? run, bool onRun)
    {
        var (fill, stroke) = node.Dataset ? ("#f4f6f8", "#8593a1")
            : !onRun ? ("#eef4fb", "#1d5fa8")
            : run?.Status switch
            {
                RunStatus.Succeeded or RunStatus.UpToDate => ("#e3f4ea", "#1e7a46"),
                RunStatus.Failed => ("#fde8e6", "#b42318"),
                RunStatus.Running => ("#e3eefb", "#1d5fa8"),
                RunStatus.Cancelled or RunStatus.Skipped => ("#fff4d6", "#8a5a00"),
                _ => ("#f4f6f8", "#9aa5b1"),
            };
        var status = run is null ? (onRun && !node.Dataset ? "not started" : null) : run.Status.ToString().ToLowerInvariant();
        var detail = node.Dataset ? "dataset"
            : run is null ? node.Kind
            : $"{node.Kind} · {status}{(run.Rows is { } rows ? " · " + UiLayout.Number(rows) + " rows" : "")}";
        var tooltip = node.Dataset ? $"dataset {node.Label}" : $"step {node.Id} ({node.Kind}){(status is null ? "" : ", " + status)}{(run?.Duration is { } d ? ", " + UiLayout.Duration(d) : "")}{(run?.Error is { } e ? ": " + e : "")}";
        var x = node.X.ToString("0.#", CultureInfo.InvariantCulture);
        var y = node.Y.ToString("0.#", CultureInfo.InvariantCulture);
        var textX = (node.X + 10).ToString("0.#", CultureInfo.InvariantCulture);
        return Html.Of($"""
            <g class="node{(node.Dataset ? " dataset" : "")}" data-step="{(node.Dataset ? "" : node.Id)}"{(status is null ? Html.Empty : Html.Of($" data-status=\"{status}\""))}><title>{tooltip}</title>
            <rect x="{x}" y="{y}" width="{BoxWidth}" height="{BoxHeight}" rx="{(node.Dataset ? 14 : 5)}" fill="{fill}" stroke="{stroke}" stroke-width="1.5"{(node.Dataset ? Html.Of($" stroke-dasharray=\"5 3\"") : Html.Empty)}/>
            <text x="{textX}" y="{(node.Y + 18).ToString("0.#", CultureInfo.InvariantCulture)}" font-size="13" font-weight="600" fill="#1f2933">{Fit(node.Label, 24)}</text>
            <text x="{textX}" y="{(node.Y + 35).ToString("0.#", CultureInfo.InvariantCulture)}" font-size="11" fill="#52606d">{Fit(detail, 31)}</text>
            </g>
            """);
    }

    static string Fit(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
