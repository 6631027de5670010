namespace Millrace.Server.Ui;

/// <summary>The addresses of the UI's pages; every variable segment is escaped.</summary>
static class UiUrls
{
    public const string Root = "/ui";
    public const string Login = "/ui/login";

    static string E(string segment) => Uri.EscapeDataString(segment);

    public static string Project(string projectId) => $"{Root}/projects/{E(projectId)}";
    public static string Pipelines(string projectId) => $"{Project(projectId)}/pipelines";
    public static string Pipeline(string projectId, string name) => $"{Pipelines(projectId)}/{E(name)}";
    public static string Runs(string projectId) => $"{Project(projectId)}/runs";
    public static string Run(string projectId, string runId) => $"{Runs(projectId)}/{E(runId)}";
    public static string Schedules(string projectId) => $"{Project(projectId)}/schedules";
    public static string Schedule(string projectId, string pipeline) => $"{Schedules(projectId)}/{E(pipeline)}";
    public static string Models(string projectId) => $"{Project(projectId)}/models";
    public static string Model(string projectId, string name) => $"{Models(projectId)}/{E(name)}";
    public static string Datasets(string projectId) => $"{Project(projectId)}/datasets";
    public static string Dataset(string projectId, string name, int? version = null) =>
        $"{Datasets(projectId)}/{E(name)}{(version is { } v ? $"?version={v}" : "")}";
    public static string Anomalies(string projectId) => $"{Project(projectId)}/anomalies";
    public static string Reports(string projectId) => $"{Project(projectId)}/reports";
    public static string Report(string projectId, string name) => $"{Reports(projectId)}/{E(name)}";
    /// <summary>A published report page (its folder, with the trailing slash so its relative links resolve).</summary>
    public static string ReportRun(string projectId, string name, string date) => $"{Report(projectId, name)}/{E(date)}/";

    /// <summary>A query string from the pairs whose value is set.</summary>
    public static string Query(params (string Name, string? Value)[] pairs)
    {
        var set = pairs.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{E(p.Name)}={E(p.Value!)}").ToList();
        return set.Count == 0 ? "" : "?" + string.Join('&', set);
    }

    /// <summary>True for a path of this UI that is safe to redirect to after sign-in (no other host, no scheme).</summary>
    public static bool IsLocal(string? path) =>
        path is not null && path.StartsWith(Root + "/", StringComparison.Ordinal) && !path.Contains("//", StringComparison.Ordinal)
        && !path.Contains('\\', StringComparison.Ordinal) && path.All(c => c >= 0x20 && c < 0x7f);
}
