using System.Text.RegularExpressions;
using Millrace.Lake;
using Millrace.Parameters;
using YamlDotNet.RepresentationModel;

namespace Millrace.Definitions;

public static partial class ProjectLoader
{
    [GeneratedRegex(@"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketPattern();

    /// <summary>
    /// Reads <c>lake:</c> (a local folder or <c>s3://bucket/prefix</c>, <c>${env:NAME}</c> allowed) and
    /// <c>lake_options:</c> (<c>endpoint</c>, <c>region</c>, <c>force_path_style</c>, <c>cache</c>; S3 only).
    /// </summary>
    static (string Lake, S3LakeLocation? S3) ReadLake(YamlNodeReader reader, YamlMappingNode root, string fallback)
    {
        var node = YamlNodeReader.Find(root, "lake");
        var lake = ExpandEnvironment(reader, node, reader.String(root, "lake")) ?? fallback;
        var options = reader.Mapping(root, "lake_options");
        var scheme = lake.IndexOf("://", StringComparison.Ordinal) is var at and > 0 ? lake[..at] : null;
        if (scheme is null)
        {
            if (options is not null)
                reader.Error(YamlNodeReader.Find(root, "lake_options")!, $"'lake_options' apply to an s3:// lake; lake '{lake}' is a local folder");
            return (lake, null);
        }
        if (scheme != "s3")
        {
            reader.Error(node ?? root, $"lake '{lake}' has the unknown scheme '{scheme}://'; write a local folder (./lake) or s3://bucket/prefix");
            return (lake, null);
        }
        var rest = lake["s3://".Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');
        if (bucket.Length == 0)
        {
            reader.Error(node ?? root, $"lake '{lake}' names no bucket; write s3://bucket/prefix");
            return (lake, null);
        }
        if (!BucketPattern().IsMatch(bucket) || bucket.Contains("..", StringComparison.Ordinal))
        {
            reader.Error(node ?? root, $"lake '{lake}': '{bucket}' is not a valid S3 bucket name (3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit)");
            return (lake, null);
        }
        if (prefix.Length > 0)
        {
            try
            {
                if (prefix.Split('/').Any(s => s is "" or "." or "..")) throw new LakePathException($"lake prefix '{prefix}' may not contain empty, '.' or '..' segments");
                LakeRoot.CheckRelative(prefix);
            }
            catch (LakePathException e)
            {
                reader.Error(node ?? root, $"lake '{lake}': {e.Message}");
                return (lake, null);
            }
        }
        if (options is null) return (lake, new S3LakeLocation(bucket, prefix));
        reader.RejectUnknownKeys(options, LakeOptionFields, "'lake_options'");
        var endpoint = ExpandEnvironment(reader, YamlNodeReader.Find(options, "endpoint"), reader.String(options, "endpoint"));
        if (endpoint is not null && (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            reader.Error(YamlNodeReader.Find(options, "endpoint")!, $"lake_options.endpoint must be an http or https URL such as http://127.0.0.1:9000, got '{RedactUserInfo(endpoint)}'");
        var region = ExpandEnvironment(reader, YamlNodeReader.Find(options, "region"), reader.String(options, "region"));
        var cache = ExpandEnvironment(reader, YamlNodeReader.Find(options, "cache"), reader.String(options, "cache"));
        return (lake, new S3LakeLocation(bucket, prefix, endpoint, region, reader.Bool(options, "force_path_style"), cache));
    }

    /// <summary>Replaces <c>${env:NAME}</c> references in a millrace.yaml value; an unset variable is an error at the value.</summary>
    static string? ExpandEnvironment(YamlNodeReader reader, YamlNode? node, string? value)
    {
        if (value is null || node is null || !value.Contains('$', StringComparison.Ordinal)) return value;
        try
        {
            return Template.Expand(value, new Dictionary<string, ParameterValue>());
        }
        catch (ParameterException e)
        {
            reader.Error(node, e.Message);
            return null;
        }
    }

    /// <summary>An endpoint as it may be shown in a message: without a user name or password written into it.</summary>
    static string RedactUserInfo(string endpoint)
    {
        var at = endpoint.IndexOf('@', StringComparison.Ordinal);
        var scheme = endpoint.IndexOf("://", StringComparison.Ordinal);
        return at < 0 ? endpoint : (scheme >= 0 && scheme < at ? endpoint[..(scheme + 3)] : "") + "…@" + endpoint[(at + 1)..];
    }
}
