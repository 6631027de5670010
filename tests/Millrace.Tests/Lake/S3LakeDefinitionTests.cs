using Millrace.Definitions;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Lake;

/// <summary><c>lake: s3://bucket/prefix</c> and <c>lake_options</c> in millrace.yaml: what is accepted, and the errors (with file:line:column).</summary>
public sealed class S3LakeDefinitionTests
{
    static string ErrorsOf(string projectYaml)
    {
        using var folder = new TempDirectory("s3def");
        folder.Write("millrace.yaml", projectYaml);
        return string.Join("\n", Project.Check(folder.Path).Errors);
    }

    [Theory]
    [InlineData("lake: s3://", "millrace.yaml:2:7: lake 's3://' names no bucket; write s3://bucket/prefix")]
    [InlineData("lake: s3:///prefix", "millrace.yaml:2:7: lake 's3:///prefix' names no bucket; write s3://bucket/prefix")]
    [InlineData("lake: gs://bucket/lake", "millrace.yaml:2:7: lake 'gs://bucket/lake' has the unknown scheme 'gs://'; write a local folder (./lake) or s3://bucket/prefix")]
    [InlineData("lake: s3://Bad_Bucket/lake", "millrace.yaml:2:7: lake 's3://Bad_Bucket/lake': 'Bad_Bucket' is not a valid S3 bucket name (3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit)")]
    [InlineData("lake: s3://bucket/lake/../..", "millrace.yaml:2:7: lake 's3://bucket/lake/../..': lake prefix 'lake/../..' may not contain empty, '.' or '..' segments")]
    [InlineData("lake: ./lake\nlake_options: { region: eu-west-1 }", "millrace.yaml:3:15: 'lake_options' apply to an s3:// lake; lake './lake' is a local folder")]
    [InlineData("lake: s3://bucket\nlake_options: { endpont: http://x }", "millrace.yaml:3:17: unknown field 'endpont' in 'lake_options' (known: cache, endpoint, force_path_style, region)")]
    [InlineData("lake: s3://bucket\nlake_options: { endpoint: 'ftp://x' }", "millrace.yaml:3:27: lake_options.endpoint must be an http or https URL such as http://127.0.0.1:9000, got 'ftp://x'")]
    [InlineData("lake: s3://bucket\nlake_options: { region: '${env:MILLRACE_TEST_UNSET_REGION}' }", "millrace.yaml:3:25: environment variable 'MILLRACE_TEST_UNSET_REGION' is not set (referenced as ${env:MILLRACE_TEST_UNSET_REGION})")]
    public void A_bad_s3_lake_is_a_definition_error_at_its_place(string lines, string error) =>
        Assert.Equal(error, ErrorsOf($"id: p\n{lines}\n"));

    [Fact]
    public void An_s3_lake_reads_bucket_prefix_and_options_and_caches_under_the_project()
    {
        using var folder = new TempDirectory("s3def");
        folder.Write("millrace.yaml", "id: p\nlake: s3://my-bucket/teams/churn/\nlake_options: { endpoint: 'http://127.0.0.1:9000', region: eu-west-1, force_path_style: true }\n");

        var project = Project.Open(folder.Path);

        Assert.Equal(new S3LakeLocation("my-bucket", "teams/churn", "http://127.0.0.1:9000", "eu-west-1", true), project.S3Lake);
        Assert.Equal("s3://my-bucket/teams/churn", project.S3Lake!.ToString());
        Assert.Equal(Path.Combine(folder.Path, ".millrace", "lake-cache"), project.LakeRoot);
    }

    [Fact]
    public void Lake_paths_on_an_s3_lake_still_cannot_leave_the_lake()
    {
        using var folder = new TempDirectory("s3def");
        folder.Write("millrace.yaml", "id: p\nlake: s3://my-bucket/lake\n");
        var lake = Millrace.Lake.LakeRoot.Open(Project.Open(folder.Path));

        Assert.True(lake.Storage.IsRemote);
        Assert.Throws<Millrace.Lake.LakePathException>(() => lake.Resolve("../other-team/secrets.csv"));
        Assert.Throws<Millrace.Lake.LakePathException>(() => lake.Resolve("s3://other-bucket/x.csv"));
    }
}

/// <summary>Which object keys an S3 lake takes for lake paths: never one that would leave or alias the cache.</summary>
public sealed class S3KeySafetyTests
{
    [Theory]
    [InlineData("raw/events/a.csv", true)]
    [InlineData("datasets/x/dt=2026-01-01/part-0.parquet", true)]
    [InlineData("reports/a/../../../../home/svc/.bashrc", false)]
    [InlineData("raw//a.csv", false)]
    [InlineData("raw/./a.csv", false)]
    [InlineData("", false)]
    [InlineData("raw/..", false)]
    public void Only_keys_without_empty_dot_or_dot_dot_segments_are_lake_paths(string key, bool safe) =>
        Assert.Equal(safe, Millrace.Lake.S3LakeStorage.IsSafe(key));
}
