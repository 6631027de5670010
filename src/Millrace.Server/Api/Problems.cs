using Microsoft.AspNetCore.Http;

namespace Millrace.Server.Api;

/// <summary>Errors as RFC 9457 problem details: a status, a short title and a detail that says what to do.</summary>
public static class Problems
{
    public static IResult Create(int status, string title, string detail) => TypedResults.Problem(detail, statusCode: status, title: title);

    public static IResult BadRequest(string title, string detail) => Create(StatusCodes.Status400BadRequest, title, detail);

    public static IResult NotFound(string detail) => Create(StatusCodes.Status404NotFound, "Not found", detail);

    public static IResult Forbidden(string detail) => Create(StatusCodes.Status403Forbidden, "Forbidden", detail);

    public static IResult Conflict(string detail) => Create(StatusCodes.Status409Conflict, "Conflict", detail);
}
