namespace Millrace.Server.Tests.TestSupport;

/// <summary>A Millrace project in a temp folder (millrace.yaml, workflows, pipelines, lake files), removed on dispose.</summary>
public sealed class ProjectFolder : IDisposable
{
    public ProjectFolder(string id = "shop", string? projectYaml = null)
    {
        Directory = Path.Combine(Path.GetTempPath(), "millrace-server-tests", $"{id}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        File("millrace.yaml", projectYaml ?? $"id: {id}\nname: Test shop\n");
    }

    /// <summary>The project folder (absolute).</summary>
    public string Directory { get; }

    public ProjectFolder File(string relative, string content)
    {
        var full = Path.Combine(Directory, relative);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        System.IO.File.WriteAllText(full, content);
        return this;
    }

    public ProjectFolder Workflow(string name, string yaml) => File($"workflows/{name}.yaml", yaml);

    public ProjectFolder Pipeline(string name, string yaml) => File($"pipelines/{name}.yaml", yaml);

    public ProjectFolder LakeFile(string relative, string content) => File(Path.Combine("lake", relative), content);

    public string LakePath(string relative) => Path.Combine(Directory, "lake", relative);

    public void Dispose()
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
                return;
            }
            catch (IOException) { Thread.Sleep(50); }
            catch (UnauthorizedAccessException) { return; }
        }
    }
}
