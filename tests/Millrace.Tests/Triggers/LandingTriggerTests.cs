using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Triggers;

/// <summary>The landing-trigger contract on a folder lake (the project's <c>lake/</c>) and the SQLite store.</summary>
public sealed class LandingTriggerFolderSqliteTests : LandingTriggerContract
{
    readonly TempDirectory _folder = new("landing-store");

    protected override string LakeYaml => "";

    protected override Task LandAsync(TestProject project, string path, string content)
    {
        project.LakeFile(path, content);
        return Task.CompletedTask;
    }

    protected override async Task<IMetadataStore> CreateStoreAsync() => await SqliteMetadataStore.OpenAsync(Path.Combine(_folder.Path, "millrace.db"), CancellationToken.None);

    protected override Task DeleteStoreAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The landing-trigger contract on a folder lake and PostgreSQL (skipped without <c>MILLRACE_TEST_POSTGRES</c>).</summary>
public sealed class LandingTriggerFolderPostgresTests : LandingTriggerContract
{
    PostgresTestDatabase? _database;

    protected override string LakeYaml => "";

    protected override Task LandAsync(TestProject project, string path, string content)
    {
        project.LakeFile(path, content);
        return Task.CompletedTask;
    }

    protected override async Task<IMetadataStore> CreateStoreAsync()
    {
        _database = await PostgresTestDatabase.CreateAsync("millrace_landing");
        return await PostgresMetadataStore.OpenAsync(_database.ConnectionString, CancellationToken.None);
    }

    protected override async Task DeleteStoreAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
    }
}

/// <summary>The landing-trigger contract on an S3 lake (a bucket on s3rver; skipped without <c>MILLRACE_TEST_S3</c>) and SQLite.</summary>
public sealed class LandingTriggerS3SqliteTests : LandingTriggerContract
{
    readonly TempDirectory _folder = new("landing-store");
    S3TestBucket? _bucket;

    protected override Task CreateLakeAsync() => S3Lake.CreateAsync(b => _bucket = b);

    protected override string LakeYaml => S3Lake.Yaml(_bucket);

    protected override Task LandAsync(TestProject project, string path, string content) => _bucket!.PutAsync("lake/" + path, content);

    protected override async Task<IMetadataStore> CreateStoreAsync() => await SqliteMetadataStore.OpenAsync(Path.Combine(_folder.Path, "millrace.db"), CancellationToken.None);

    protected override Task DeleteStoreAsync()
    {
        _bucket?.Dispose();
        _folder.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The landing-trigger contract on an S3 lake and PostgreSQL: the cluster's setup.</summary>
public sealed class LandingTriggerS3PostgresTests : LandingTriggerContract
{
    PostgresTestDatabase? _database;
    S3TestBucket? _bucket;

    protected override Task CreateLakeAsync() => S3Lake.CreateAsync(b => _bucket = b);

    protected override string LakeYaml => S3Lake.Yaml(_bucket);

    protected override Task LandAsync(TestProject project, string path, string content) => _bucket!.PutAsync("lake/" + path, content);

    protected override async Task<IMetadataStore> CreateStoreAsync()
    {
        _database = await PostgresTestDatabase.CreateAsync("millrace_landing");
        return await PostgresMetadataStore.OpenAsync(_database.ConnectionString, CancellationToken.None);
    }

    protected override async Task DeleteStoreAsync()
    {
        _bucket?.Dispose();
        if (_database is not null) await _database.DisposeAsync();
    }
}

static class S3Lake
{
    /// <summary>Creates the test's bucket, or leaves it null without s3rver (every test then skips when it asks for it).</summary>
    public static async Task CreateAsync(Action<S3TestBucket> created)
    {
        if (S3TestBucket.Endpoint is not null) created(await S3TestBucket.CreateAsync());
    }

    /// <summary>The lake lines of the bucket; skips the test without one.</summary>
    public static string Yaml(S3TestBucket? bucket)
    {
        Skip.If(bucket is null, "MILLRACE_TEST_S3 is not set: ./test.sh starts s3rver on loopback and sets it");
        return bucket.LakeYaml();
    }
}
