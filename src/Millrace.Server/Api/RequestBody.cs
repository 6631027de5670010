using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Millrace.Server.Api;

/// <summary>
/// Reads a JSON object body by hand, whatever the Content-Type (curl's <c>-d</c> sends form encoding), so that a bad
/// body gets a 400 that says what is wrong. Property names match case-insensitively.
/// </summary>
sealed class RequestBody
{
    readonly JsonElement? _root;

    RequestBody(JsonElement? root) => _root = root;

    public static async Task<(RequestBody? Body, IResult? Problem)> ReadAsync(HttpRequest request, string example)
    {
        string text;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
            text = await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
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
