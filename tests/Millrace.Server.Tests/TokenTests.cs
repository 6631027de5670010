using Microsoft.Data.Sqlite;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>Tokens: shown once, stored as a salted hash only, verified in constant time, listed without secrets, revocable.</summary>
public sealed class TokenTests : IDisposable
{
    readonly ProjectFolder _folder = new("churn");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task The_store_keeps_a_salted_hash_and_never_the_secret()
    {
        var path = Path.Combine(_folder.Directory, "tokens.db");
        string text;
        await using (var metadata = await SqliteMetadataStore.OpenAsync(path, CancellationToken.None))
        {
            var store = await ServerStore.OpenAsync(metadata.Database, CancellationToken.None);
            ApiToken token;
            (token, text) = ApiTokens.Create("churn", TokenRole.Runner, "ci", TimeSpan.FromDays(90), DateTimeOffset.UtcNow);
            await store.CreateTokenAsync(token, CancellationToken.None);
            var (again, againText) = ApiTokens.Create("churn", TokenRole.Runner, "ci", null, DateTimeOffset.UtcNow);
            Assert.NotEqual(token.Salt, again.Salt);
            Assert.NotEqual(text, againText);
        }
        Assert.True(ApiTokens.TryParse(text, out var id, out var secret));

        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, project_id, role, name, salt, hash, created_at, expires_at FROM api_tokens";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var row = Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "" : reader.GetValue(i).ToString()!).ToList();
        Assert.Equal(id, row[0]);
        Assert.DoesNotContain(row, value => value.Contains(secret, StringComparison.Ordinal));
        Assert.Equal(64, row[5].Length); // HMAC-SHA256 in hex
        SqliteConnection.ClearAllPools();
    }

    [Fact]
    public void Verification_accepts_the_secret_and_rejects_any_other()
    {
        var (token, text) = ApiTokens.Create("churn", TokenRole.Admin, null, null, DateTimeOffset.UtcNow);
        Assert.True(ApiTokens.TryParse(text, out _, out var secret));

        Assert.True(ApiTokens.Verify(token, secret));
        Assert.False(ApiTokens.Verify(token, secret + "x"));
        Assert.False(ApiTokens.Verify(token, secret[..^1]));
        Assert.False(ApiTokens.Verify(token with { Salt = "00" + token.Salt[2..] }, secret));
        Assert.False(ApiTokens.TryParse("mr_XYZ", out _, out _));
        Assert.False(ApiTokens.TryParse("Bearer " + text, out _, out _));
    }

    [Fact]
    public async Task Revoking_marks_the_token_once_and_listing_shows_ids_without_hashes_changing()
    {
        await using var metadata = await SqliteMetadataStore.OpenAsync(Path.Combine(_folder.Directory, "list.db"), CancellationToken.None);
        var store = await ServerStore.OpenAsync(metadata.Database, CancellationToken.None);
        var (token, _) = ApiTokens.Create("churn", TokenRole.Viewer, "dashboard", null, DateTimeOffset.UtcNow);
        await store.CreateTokenAsync(token, CancellationToken.None);

        Assert.True(await store.RevokeTokenAsync(token.Id, DateTimeOffset.UtcNow, CancellationToken.None));
        Assert.False(await store.RevokeTokenAsync(token.Id, DateTimeOffset.UtcNow, CancellationToken.None));
        Assert.False(await store.RevokeTokenAsync("0000000000000000", DateTimeOffset.UtcNow, CancellationToken.None));

        var listed = Assert.Single(await store.ListTokensAsync(CancellationToken.None));
        Assert.Equal((token.Id, TokenRole.Viewer, "dashboard"), (listed.Id, listed.Role, listed.Name));
        Assert.NotNull(listed.RevokedAt);
    }
}
