using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Millrace.Server.Api;

/// <summary>
/// Reads a JSON object body by hand, whatever the Content-Type (curl's <c>-d</c> sends form encoding), so that a bad
/// body gets a 400 that says what is wrong. Property names match case-insensitively. Endpoints call it after the token
/// check (never bind a body parameter: minimal APIs bind it before endpoint filters run). A body over
/// <see cref="MaxBytes"/> is a 413, a body that is not UTF-8 text or not JSON a 400: never an exception.
/// </summary>
sealed class RequestBody
{
    /// <summary>The largest JSON body of a run request, backfill or promotion.</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>Any content type is read as JSON (the routing's 415 must not turn a client away before its token is checked).</summary>
    public const string AnyContentType = "*/*";

    readonly JsonElement? _root;

    RequestBody(JsonElement? root) => _root = root;

    public static async Task<(RequestBody? Body, IResult? Problem)> ReadAsync(HttpRequest request, string example)
    {
        var (text, problem) = await ReadTextAsync(request, MaxBytes);
        if (problem is not null) return (null, problem);
        if (string.IsNullOrWhiteSpace(text)) return (new RequestBody(null), null);
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return (null, Problems.BadRequest("Malformed body", $"the body must be a JSON object, such as {example}"));
            return (new RequestBody(document.RootElement.Clone()), null);
        }
        catch (JsonException e)
        {
            return (null, Problems.BadRequest("Malformed body", $"the body is not valid JSON ({e.Message}); send a JSON object such as {example}"));
        }
    }

    /// <summary>
    /// The body as UTF-8 text, at most <paramref name="limit"/> bytes: a larger body is a 413 (from its Content-Length
    /// before anything is read, or as soon as the bytes read pass the limit), bytes that are not UTF-8 a 400.
    /// </summary>
    public static async Task<(string? Text, IResult? Problem)> ReadTextAsync(HttpRequest request, int limit)
    {
        if (request.ContentLength > limit) return (null, TooLarge(limit));
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
            {
                if (buffer.Length + read > limit) return (null, TooLarge(limit));
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e)
        {
            // The server's own limit (Kestrel's MaxRequestBodySize) or a broken upload.
            return (null, e.StatusCode == StatusCodes.Status413PayloadTooLarge ? TooLarge(limit)
                : Problems.Create(e.StatusCode, "Bad request body", $"the request body could not be read: {e.Message}"));
        }
        try
        {
            return (StrictUtf8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), null);
        }
        catch (DecoderFallbackException)
        {
            return (null, Problems.BadRequest("Malformed body", "the body is not UTF-8 text; send JSON"));
        }
    }

    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    static IResult TooLarge(int limit) =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, "Body too large", $"the request body is larger than {limit / 1024} KiB, the most this endpoint reads");

    JsonElement? Property(string name)
    {
        if (_root is not { } root) return null;
        foreach (var property in root.EnumerateObject())
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase)) return property.Value;
        return null;
    }

    /// <summary>A string property; a problem when it is there but not a string.</summary>
    public string? String(string name, out IResult? problem)
    {
        problem = null;
        switch (Property(name))
        {
            case null: return null;
            case { ValueKind: JsonValueKind.Null }: return null;
            case { ValueKind: JsonValueKind.String } value: return value.GetString();
            default:
                problem = Problems.BadRequest("Malformed body", $"'{name}' must be a string");
                return null;
        }
    }

    /// <summary>An integer property; a problem when it is there but not an integer.</summary>
    public int? Int(string name, out IResult? problem)
    {
        problem = null;
        switch (Property(name))
        {
            case null or { ValueKind: JsonValueKind.Null }: return null;
            case { ValueKind: JsonValueKind.Number } value when value.TryGetInt32(out var number): return number;
            default:
                problem = Problems.BadRequest("Malformed body", $"'{name}' must be an integer");
                return null;
        }
    }

    public bool Bool(string name, out IResult? problem)
    {
        problem = null;
        switch (Property(name))
        {
            case null or { ValueKind: JsonValueKind.Null }: return false;
            case { ValueKind: JsonValueKind.True }: return true;
            case { ValueKind: JsonValueKind.False }: return false;
            default:
                problem = Problems.BadRequest("Malformed body", $"'{name}' must be true or false");
                return false;
        }
    }

    /// <summary>An object of string (or number, or boolean) values, as parameter values.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Map(string name, out IResult? problem)
    {
        problem = null;
        switch (Property(name))
        {
            case null or { ValueKind: JsonValueKind.Null }: return [];
            case { ValueKind: JsonValueKind.Object } value:
                var result = new List<KeyValuePair<string, string>>();
                foreach (var property in value.EnumerateObject())
                {
                    var text = property.Value.ValueKind switch
                    {
                        JsonValueKind.String => property.Value.GetString(),
                        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => property.Value.GetRawText(),
                        _ => null,
                    };
                    if (text is null)
                    {
                        problem = Problems.BadRequest("Malformed body", $"'{name}.{property.Name}' must be a string, number or boolean");
                        return [];
                    }
                    result.Add(new(property.Name, text));
                }
                return result;
            default:
                problem = Problems.BadRequest("Malformed body", $"'{name}' must be an object of parameter values, such as {{\"region\": \"north\"}}");
                return [];
        }
    }
}
