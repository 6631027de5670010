using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Millrace.Definitions;

namespace Millrace.Lake;

/// <summary>
/// An S3 lake (<c>lake: s3://bucket/prefix</c>) seen through a local cache folder. Keys are the prefix plus the
/// lake-relative path. Landing-zone files are identified by their ETag; committed files (dataset parts, model
/// versions) never change, so they are fetched once; a run's files are uploaded before its commit, dataset parts to
/// their final keys (no version lists them until the commit) and staged outputs under <c>_staging/&lt;run&gt;/</c>,
/// which is what lets any node publish a commit whose node died.
/// </summary>
public sealed class S3LakeStorage : ILakeStorage
{
    // Single PUT and COPY limit of S3; larger objects would need multipart, which Millrace does not do.
    const long MaxObjectSize = 5L * 1024 * 1024 * 1024;
    const int Parallelism = 4;

    readonly IAmazonS3 _client;
    readonly string _bucket;
    readonly string _prefix;
    readonly string _cache;

    /// <param name="location">The bucket and prefix, with the connection options of <c>lake_options</c>.</param>
    /// <param name="cacheRoot">The local folder DuckDB reads the lake's files from.</param>
    /// <param name="clients">The host's S3 clients; the storage uses one and never disposes it.</param>
    public S3LakeStorage(S3LakeLocation location, string cacheRoot, S3ClientCache clients)
    {
        _bucket = location.Bucket;
        _prefix = location.Prefix;
        _cache = cacheRoot;
        Location = location.ToString();
        _client = clients.For(location);
    }

    public string Location { get; }
    public bool IsRemote => true;

    string Key(string path) => _prefix.Length == 0 ? path : $"{_prefix}/{path}";

    string Uri(string path) => $"s3://{_bucket}/{Key(path)}";

    // A key the bucket holds is only trusted as a path inside the cache: no empty, '.' or '..' segment.
    string Local(string path)
    {
        if (!IsSafe(path)) throw new LakeStorageException($"S3 lake: refusing the object {Uri(path)}: its key has an empty, '.' or '..' segment");
        return Path.Combine(_cache, path);
    }

    internal static bool IsSafe(string path) => path.Length > 0 && path.Split('/').All(segment => segment is not ("" or "." or ".."));

    // The ETag a cached landing file was downloaded at, next to it (landing files may change in place; size and
    // time alone cannot tell a same-size rewrite within a second).
    static string EtagFile(string local) => Path.Combine(Path.GetDirectoryName(local)!, $".{Path.GetFileName(local)}.etag");

    public async Task<IReadOnlyList<LakeFile>> ListAsync(string prefix, CancellationToken ct)
    {
        var files = new List<LakeFile>();
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = _prefix.Length == 0 ? prefix : $"{_prefix}/{prefix}" };
        var skip = _prefix.Length == 0 ? 0 : _prefix.Length + 1;
        do
        {
            var response = await CallAsync(() => _client.ListObjectsV2Async(request, ct), $"list {Uri(prefix)}");
            Interlocked.Increment(ref _listRequests);
            Interlocked.Add(ref _entriesListed, response.S3Objects?.Count ?? 0);
            foreach (var item in response.S3Objects ?? [])
            {
                if (item.Key.EndsWith('/')) continue; // a "folder" marker some tools create, not a file
                if (!IsSafe(item.Key[skip..])) continue; // not a lake path (empty, '.' or '..' segments): never brought into the cache
                files.Add(new LakeFile(item.Key[skip..], item.Size ?? 0, new DateTimeOffset(Utc(item.LastModified), TimeSpan.Zero), item.ETag?.Trim('"')));
            }
            request.ContinuationToken = response.IsTruncated == true ? response.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return files;
    }

    public async Task<IReadOnlyList<string>> ListChildrenAsync(string prefix, string? startAfter, CancellationToken ct)
    {
        var entries = new List<string>();
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = Key(prefix), Delimiter = "/", StartAfter = startAfter is null ? null : Key(startAfter) };
        var skip = _prefix.Length == 0 ? 0 : _prefix.Length + 1;
        do
        {
            var response = await CallAsync(() => _client.ListObjectsV2Async(request, ct), $"list {Uri(prefix)} (one level)");
            Interlocked.Increment(ref _listRequests);
            var page = (response.CommonPrefixes ?? []).Concat((response.S3Objects ?? []).Select(o => o.Key)).ToList();
            Interlocked.Add(ref _entriesListed, page.Count);
            entries.AddRange(page.Select(k => k[skip..]).Where(p => IsSafe(p.TrimEnd('/'))));
            request.ContinuationToken = response.IsTruncated == true ? response.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);
        entries.Sort(StringComparer.Ordinal);
        return entries;
    }

    long _listRequests;
    long _entriesListed;

    /// <summary>How many ListObjectsV2 requests this storage sent (both kinds of listing), for the listing-cost benchmark.</summary>
    public long ListRequests => Interlocked.Read(ref _listRequests);

    /// <summary>How many keys and common prefixes those requests returned.</summary>
    public long EntriesListed => Interlocked.Read(ref _entriesListed);

    public Task FetchAsync(IReadOnlyCollection<LakeFile> files, CancellationToken ct) =>
        Parallel.ForEachAsync(files.Where(f => !IsCached(f)), new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct },
            async (file, token) => await DownloadAsync(file.Path, file, token));

    static DateTime Utc(DateTime? time) => time is not { } value ? DateTime.UnixEpoch
        : value.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(value, DateTimeKind.Utc) : value.ToUniversalTime();

    // The cache holds a listed file when it has its size and listed time (given to the file when it was downloaded).
    bool IsCached(LakeFile file)
    {
        var local = new FileInfo(Local(file.Path));
        if (!local.Exists || local.Length != file.Size || local.LastWriteTimeUtc != file.Modified.UtcDateTime) return false;
        var etag = EtagFile(local.FullName);
        return file.ETag is null || (File.Exists(etag) && File.ReadAllText(etag) == file.ETag);
    }

    public Task FetchImmutableAsync(IReadOnlyCollection<string> paths, CancellationToken ct) =>
        Parallel.ForEachAsync(paths.Distinct(StringComparer.Ordinal).Where(p => !File.Exists(Local(p))), new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct },
            async (path, token) => await DownloadAsync(path, null, token));

    /// <summary>Downloads an object into the cache through a temporary file, so a reader never sees half a file.</summary>
    /// <remarks>
    /// A listed file is downloaded only as listed (its ETag must still match) and keeps the listed time, to which
    /// <see cref="IsCached"/> compares (a GET's Last-Modified has whole seconds, a listing may not).
    /// </remarks>
    async Task DownloadAsync(string path, LakeFile? listed, CancellationToken ct, string? target = null)
    {
        var local = target ?? Local(path);
        Directory.CreateDirectory(Path.GetDirectoryName(local)!);
        var temporary = Path.Combine(Path.GetDirectoryName(local)!, $".{Path.GetFileName(local)}.{Guid.NewGuid():n}.download");
        try
        {
            using (var response = await CallAsync(() => _client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = Key(path), EtagToMatch = listed?.ETag is { } etag ? $"\"{etag}\"" : null }, ct), $"download {Uri(path)}"))
            {
                await using (var output = File.Create(temporary))
                await using (var body = response.ResponseStream)
                    await body.CopyToAsync(output, ct);
                var length = new FileInfo(temporary).Length;
                if (length != response.ContentLength)
                    throw new LakeStorageException($"download of {Uri(path)} is incomplete: {length} of {response.ContentLength} bytes; run again");
                File.SetLastWriteTimeUtc(temporary, listed?.Modified.UtcDateTime ?? Utc(response.LastModified));
            }
            File.Move(temporary, local, overwrite: true);
            if (listed?.ETag is { } downloaded) File.WriteAllText(EtagFile(local), downloaded);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public Task UploadAsync(IReadOnlyCollection<string> paths, CancellationToken ct) =>
        Parallel.ForEachAsync(paths.Distinct(StringComparer.Ordinal), new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct },
            async (path, token) => await PutAsync(Local(path), path, token));

    async Task PutAsync(string local, string path, CancellationToken ct)
    {
        var size = new FileInfo(local).Length;
        if (size > MaxObjectSize)
            throw new LakeStorageException($"{path} is {size} bytes; an S3 lake takes files up to 5 GiB (write it with partition_by to split it)");
        // s3rver and some other S3-compatible servers store chunk-signed uploads with their chunk headers in the data.
        await CallAsync(() => _client.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = Key(path), FilePath = local, UseChunkEncoding = false }, ct), $"upload {Uri(path)}");
    }

    public async Task<bool> MoveAsync(string from, string to, CancellationToken ct)
    {
        // Gone: published before a crash that came ahead of its mark, or by another node rolling the commit forward.
        if (!await ExistsAsync(from, ct)) return false;
        try
        {
            await _client.CopyObjectAsync(new CopyObjectRequest { SourceBucket = _bucket, SourceKey = Key(from), DestinationBucket = _bucket, DestinationKey = Key(to) }, ct);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            // The source exists, yet the copy did not find it: some S3-compatible servers (s3rver) do not decode the
            // '/' the SDK escapes in x-amz-copy-source. Copy through this node instead: its staged file, or a download.
            // Another node may have published it (and deleted the staged object) meanwhile: then there is nothing
            // left to do, and uploading this node's copy could land over a newer commit's file.
            if (!await ExistsAsync(from, ct)) return false;
            if (!File.Exists(Local(from)))
            {
                try { await DownloadAsync(from, null, ct, Local(to)); }
                catch (LakeStorageException)
                {
                    if (await ExistsAsync(from, ct)) throw;
                    return false;
                }
            }
            await PutAsync(File.Exists(Local(from)) ? Local(from) : Local(to), to, ct);
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException)
        {
            throw new LakeStorageException($"S3 lake: cannot copy {Uri(from)} to {Uri(to)}: {e.Message.Trim()}", e);
        }
        await CallAsync(() => _client.DeleteObjectAsync(_bucket, Key(from), ct), $"delete {Uri(from)}");
        // The cache follows: this node's staged copy becomes the cached final file; another node's stale copy goes.
        var cachedFrom = Local(from);
        var cachedTo = Local(to);
        if (File.Exists(cachedFrom))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(cachedTo)!);
            File.Move(cachedFrom, cachedTo, overwrite: true);
        }
        else if (File.Exists(cachedTo)) File.Delete(cachedTo);
        return true;
    }

    // A listing rather than a HEAD: a HEAD's 404 has no body, so a missing key and a missing bucket (a node configured
    // with the wrong bucket) look alike, and the latter must fail, not pass for "already published".
    async Task<bool> ExistsAsync(string path, CancellationToken ct)
    {
        var response = await CallAsync(() => _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = Key(path), MaxKeys = 1 }, ct), $"list {Uri(path)}");
        return response.S3Objects?.Any(o => o.Key == Key(path)) == true;
    }

    public async Task DeleteAsync(IReadOnlyCollection<string> paths, CancellationToken ct)
    {
        foreach (var batch in paths.Distinct(StringComparer.Ordinal).Chunk(1000))
        {
            var request = new DeleteObjectsRequest { BucketName = _bucket, Objects = batch.Select(p => new KeyVersion { Key = Key(p) }).ToList() };
            var response = await CallAsync(() => _client.DeleteObjectsAsync(request, ct), $"delete {batch.Length} object(s) under {Location}");
            if (response.DeleteErrors is { Count: > 0 } errors)
                throw new LakeStorageException($"S3 lake: could not delete s3://{_bucket}/{errors[0].Key}: {errors[0].Code} {errors[0].Message}");
            foreach (var path in batch.Select(Local).Where(File.Exists)) File.Delete(path);
        }
    }

    async Task<T> CallAsync<T>(Func<Task<T>> call, string what)
    {
        try
        {
            return await call();
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode == "NoSuchBucket")
        {
            throw new LakeStorageException($"S3 lake: cannot {what}: the bucket '{_bucket}' does not exist; create it or correct 'lake:' in millrace.yaml", e);
        }
        catch (AmazonServiceException e)
        {
            throw new LakeStorageException($"S3 lake: cannot {what}: {e.Message.Trim()}", e);
        }
        catch (HttpRequestException e)
        {
            throw new LakeStorageException($"S3 lake: cannot {what}: {e.Message.Trim()}", e);
        }
    }
}
