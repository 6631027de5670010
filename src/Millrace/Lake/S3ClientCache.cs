using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Millrace.Definitions;

namespace Millrace.Lake;

/// <summary>
/// The S3 clients of one host (a server's project, a CLI command), one per configuration: every lake opened with the
/// same cache shares its clients and their connections. Disposing the cache disposes the clients; the host that
/// created it disposes it after the lakes it opened are done.
/// </summary>
public sealed class S3ClientCache : IDisposable
{
    readonly Lock _gate = new();
    readonly Dictionary<string, AmazonS3Client> _clients = new(StringComparer.Ordinal);
    bool _disposed;

    /// <summary>Clients made so far (one per distinct configuration).</summary>
    public int Count
    {
        get { lock (_gate) return _clients.Count; }
    }

    /// <summary>
    /// The client for a lake: endpoint, region and path style from <c>lake_options</c>, else from
    /// <c>AWS_ENDPOINT_URL_S3</c>, <c>AWS_ENDPOINT_URL</c> and <c>AWS_REGION</c>; credentials from the SDK's default
    /// sources (<c>AWS_ACCESS_KEY_ID</c> and <c>AWS_SECRET_ACCESS_KEY</c> first). Made once per configuration.
    /// </summary>
    public IAmazonS3 For(S3LakeLocation location)
    {
#pragma warning disable RS0030 // The AWS SDK's standard variables, as the SDK itself reads them (docs/operations.md).
        var endpoint = location.Endpoint ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3") ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL");
        if (string.IsNullOrWhiteSpace(endpoint)) endpoint = null;
        var region = location.Region ?? Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION") ?? "us-east-1";
        var pathStyle = location.ForcePathStyle ?? endpoint is not null;
        var key = string.Join('|', endpoint, region, pathStyle, Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID"), Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY"));
#pragma warning restore RS0030
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_clients.TryGetValue(key, out var client)) _clients[key] = client = Create(endpoint, region, pathStyle);
            return client;
        }
    }

    static AmazonS3Client Create(string? endpoint, string region, bool pathStyle)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = pathStyle,
            // S3-compatible servers (MinIO, s3rver) do not all accept the SDK's default trailing checksums.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (endpoint is not null)
        {
            config.ServiceURL = endpoint;
            config.AuthenticationRegion = region;
        }
        else config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        return new AmazonS3Client(config);
    }

    /// <summary>Disposes every client; lakes opened with this cache can no longer reach S3.</summary>
    public void Dispose()
    {
        List<AmazonS3Client> clients;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            clients = [.. _clients.Values];
            _clients.Clear();
        }
        foreach (var client in clients) client.Dispose();
    }
}
