using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Millrace.Tests.TestSupport;

/// <summary>
/// A fresh bucket on the S3-compatible server named by <c>MILLRACE_TEST_S3</c> (./test.sh starts s3rver on loopback
/// and sets it); the test skips without it. Credentials are s3rver's defaults unless AWS_ACCESS_KEY_ID is set.
/// </summary>
public sealed class S3TestBucket : IDisposable
{
    public static string? Endpoint => Environment.GetEnvironmentVariable("MILLRACE_TEST_S3");

    readonly AmazonS3Client _client;

    S3TestBucket(AmazonS3Client client, string name)
    {
        _client = client;
        Name = name;
    }

    public string Name { get; }

    /// <summary>Creates a bucket with a unique name; skips the test when no test server is configured.</summary>
    public static async Task<S3TestBucket> CreateAsync()
    {
        Skip.If(Endpoint is null, "MILLRACE_TEST_S3 is not set: ./test.sh starts s3rver on loopback and sets it");
        // The lake reads the standard AWS variables; s3rver accepts its default key pair.
        if (Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is null)
        {
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "S3RVER");
            Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "S3RVER");
        }
        var client = new AmazonS3Client(
            new BasicAWSCredentials(Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID"), Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY")),
            new AmazonS3Config { ServiceURL = Endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        var name = "millrace-test-" + Guid.NewGuid().ToString("N")[..16];
        await client.PutBucketAsync(name);
        return new S3TestBucket(client, name);
    }

    /// <summary>The millrace.yaml lines of a project whose lake is this bucket under <paramref name="prefix"/>.</summary>
    public string LakeYaml(string prefix = "lake") => $"lake: s3://{Name}/{prefix}\nlake_options: {{ endpoint: \"{Endpoint}\" }}\n";

    public Task PutAsync(string key, string content) =>
        _client.PutObjectAsync(new PutObjectRequest { BucketName = Name, Key = key, ContentBody = content, UseChunkEncoding = false });

    public async Task<string> GetAsync(string key)
    {
        using var response = await _client.GetObjectAsync(Name, key);
        using var reader = new StreamReader(response.ResponseStream);
        return await reader.ReadToEndAsync();
    }

    /// <summary>Every key in the bucket, sorted.</summary>
    public async Task<IReadOnlyList<string>> KeysAsync(string prefix = "")
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = Name, Prefix = prefix };
        do
        {
            var response = await _client.ListObjectsV2Async(request);
            keys.AddRange((response.S3Objects ?? []).Select(o => o.Key));
            request.ContinuationToken = response.IsTruncated == true ? response.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);
        return keys.Order(StringComparer.Ordinal).ToList();
    }

    public void Dispose() => _client.Dispose();
}
