using System.Text.Json;
using Millrace.Server.Tests.TestSupport;

namespace Millrace.Server.Tests;

/// <summary>docs/api.md lists every endpoint of the OpenAPI document the server serves.</summary>
public sealed class ApiDocumentationTests : IAsyncLifetime
{
    readonly ProjectFolder _project = Samples.Prediction(new ProjectFolder("churn"));
    TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(_project, o => o with { EnableScheduler = false });

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _project.Dispose();
    }

    [Fact]
    public async Task Every_path_and_method_of_the_OpenAPI_document_is_in_the_API_reference()
    {
        var document = await _server.Anonymous.GetJsonAsync("/openapi/v1.json");
        var reference = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "docs", "api.md"));

        var missing = new List<string>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Value.ValueKind == JsonValueKind.Object && o.Name is "get" or "post" or "put" or "delete" or "patch"))
            {
                var line = $"{operation.Name.ToUpperInvariant()} {path.Name}";
                if (!reference.Contains(line, StringComparison.Ordinal)) missing.Add(line);
            }

        Assert.True(missing.Count == 0, "docs/api.md does not document: " + string.Join(", ", missing));
        Assert.True(document.GetProperty("paths").EnumerateObject().Count() >= 25);
    }

    static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Millrace.sln"))) return directory.FullName;
        throw new InvalidOperationException("the repository root (Millrace.sln) is not above the test folder");
    }
}
