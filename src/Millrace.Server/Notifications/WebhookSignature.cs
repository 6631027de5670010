using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Millrace.Server.Notifications;

/// <summary>
/// Signs webhook deliveries: <c>X-Millrace-Signature: sha256=&lt;hex&gt;</c> is HMAC-SHA256 with the webhook's secret
/// over <c>"&lt;timestamp&gt;.&lt;body&gt;"</c>, where the timestamp (Unix seconds) is sent as
/// <c>X-Millrace-Timestamp</c>. A receiver recomputes it, compares in constant time, and rejects old timestamps.
/// </summary>
public static class WebhookSignature
{
    public const string SignatureHeader = "X-Millrace-Signature";
    public const string TimestampHeader = "X-Millrace-Timestamp";
    public const string EventHeader = "X-Millrace-Event";
    public const string DeliveryHeader = "X-Millrace-Delivery";

    /// <summary>The signature header value for <paramref name="body"/> sent at <paramref name="timestamp"/>.</summary>
    public static string Sign(string secret, long timestamp, string body)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + "." + body));
        return "sha256=" + Convert.ToHexStringLower(mac);
    }

    /// <summary>True when <paramref name="signature"/> is the right one (constant-time comparison).</summary>
    public static bool Verify(string secret, long timestamp, string body, string signature) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(secret, timestamp, body)), Encoding.ASCII.GetBytes(signature));
}
