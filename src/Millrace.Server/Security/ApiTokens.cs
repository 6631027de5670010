using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Millrace.Server.Storage;

namespace Millrace.Server.Security;

/// <summary>
/// API tokens: <c>mr_&lt;id&gt;_&lt;secret&gt;</c>. The id (16 hex digits) is public and finds the token; the secret
/// (32 random bytes, base64url) is shown once. The store keeps a random salt and HMAC-SHA256(salt, secret), and a
/// presented secret is compared with the stored hash in constant time.
/// </summary>
public static class ApiTokens
{
    const string Prefix = "mr_";
    const int IdLength = 16;

    /// <summary>Makes a new token for <paramref name="projectId"/>: the record to store and the text to show once.</summary>
    public static (ApiToken Token, string Text) Create(string projectId, TokenRole role, string? name, TimeSpan? lifetime, DateTimeOffset now)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdLength / 2));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var salt = RandomNumberGenerator.GetBytes(16);
        var token = new ApiToken
        {
            Id = id,
            ProjectId = projectId,
            Role = role,
            Name = name,
            Salt = Convert.ToHexStringLower(salt),
            Hash = Convert.ToHexStringLower(Hash(salt, secret)),
            CreatedAt = now,
            ExpiresAt = lifetime is { } l ? now + l : null,
        };
        return (token, $"{Prefix}{id}_{secret}");
    }

    /// <summary>Splits a presented token into its id and secret; false when it does not have the token's shape.</summary>
    public static bool TryParse(string? text, out string id, out string secret)
    {
        (id, secret) = ("", "");
        text = text?.Trim();
        if (text is null || text.Length < Prefix.Length + IdLength + 2 || !text.StartsWith(Prefix, StringComparison.Ordinal) || text[Prefix.Length + IdLength] != '_')
            return false;
        id = text.Substring(Prefix.Length, IdLength);
        secret = text[(Prefix.Length + IdLength + 1)..];
        return id.All(char.IsAsciiHexDigitLower) && secret.Length > 0;
    }

    /// <summary>True when <paramref name="secret"/> is the token's secret (constant-time comparison of the hashes).</summary>
    public static bool Verify(ApiToken token, string secret)
    {
        byte[] salt, expected;
        try
        {
            salt = Convert.FromHexString(token.Salt);
            expected = Convert.FromHexString(token.Hash);
        }
        catch (FormatException)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(Hash(salt, secret), expected);
    }

    /// <summary>Parses a role name: viewer, runner or admin.</summary>
    public static bool TryParseRole(string text, out TokenRole role) =>
        Enum.TryParse(text, ignoreCase: true, out role) && Enum.IsDefined(role) && !int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _);

    static byte[] Hash(byte[] salt, string secret) => HMACSHA256.HashData(salt, Encoding.UTF8.GetBytes(secret));

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
