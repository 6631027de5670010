using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Millrace.Server.Api;

/// <summary>
/// The address the API's absolute URLs (<c>statusUrl</c>) start with: <see cref="ServerOptions.PublicUrl"/> when set,
/// else the address the server listens on. Never the request's <c>Host</c> header: a caller could make the server hand
/// out links to a host of its choosing. Forwarded headers (<c>X-Forwarded-Host</c>) are not trusted either.
/// </summary>
static class PublicAddress
{
    /// <summary>The base URL, without a trailing '/'.</summary>
    public static string Of(HttpContext http)
    {
        var options = http.RequestServices.GetRequiredService<ServerOptions>();
        if (options.PublicUrl is { } configured) return configured.GetLeftPart(UriPartial.Path).TrimEnd('/');
        var addresses = http.RequestServices.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var port = http.Connection.LocalPort;
        var uris = addresses.Select(a => Uri.TryCreate(Wildcard(a), UriKind.Absolute, out var uri) ? uri : null).OfType<Uri>().ToList();
        var bound = uris.FirstOrDefault(u => u.Port == port) ?? uris.FirstOrDefault();
        if (bound is null) return $"http://{Authority(http.Connection.LocalIpAddress ?? IPAddress.Loopback, port)}";
        // Bound to every interface: name the interface the request came in on (the server's own address).
        if (IPAddress.TryParse(bound.Host.Trim('[', ']'), out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)))
            return $"{bound.Scheme}://{Authority(http.Connection.LocalIpAddress ?? IPAddress.Loopback, bound.Port)}";
        return $"{bound.Scheme}://{bound.Authority}";
    }

    static string Wildcard(string address) =>
        address.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);

    static string Authority(IPAddress ip, int port)
    {
        if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        return ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]:{port}" : $"{ip}:{port}";
    }
}
