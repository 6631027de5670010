using System.Text.Json;
using Millrace.Server.Storage;

namespace Millrace.Server.Security;

/// <summary>
/// Bounds what calls without a valid token can make the server write. Per project and per window (a minute by
/// default), the first refused call of each client address is recorded in full; later ones from that address are
/// counted, and one summary entry per address (<c>refused calls</c>, with the count) closes the window. An address
/// counts once per reason and token (a revoked token's use is not hidden by an earlier missing token). At most
/// <see cref="ServerOptions.RefusalAuditClients"/> such sources a window get their own entries; the calls of any further
/// source go into one summary for the project. So a flood writes at most twice that many entries (plus one) per
/// project and window, whatever its size, and every refused call is still counted.
/// </summary>
sealed class RefusalAudit(TimeSpan window, int clientsPerWindow)
{
    /// <summary>The longest recorded text (action, target, actor, user name); longer texts are cut and marked.</summary>
    public const int MaxTextChars = 256;

    /// <summary>The longest recorded details (JSON); longer details are replaced by their start and length.</summary>
    public const int MaxDetailsChars = 2048;

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    sealed class Client(AuditEntry first)
    {
        public AuditEntry First { get; } = first;
        public int Suppressed { get; set; }
        public DateTimeOffset LastAt { get; set; } = first.At;
        public string LastAction { get; set; } = first.Action;
    }

    sealed class ProjectWindow(DateTimeOffset start)
    {
        public DateTimeOffset Start { get; } = start;
        public Dictionary<string, Client> Clients { get; } = new(StringComparer.Ordinal);
        public int Overflow { get; set; }
        public HashSet<string> OverflowClients { get; } = new(StringComparer.Ordinal);
        public DateTimeOffset LastAt { get; set; }
    }

    readonly Dictionary<string, ProjectWindow> _projects = new(StringComparer.Ordinal);

    public TimeSpan Window { get; } = window;

    /// <summary>
    /// True when <paramref name="entry"/> (a refused call without a valid token) is to be written now; otherwise it was
    /// counted for the summary of its window. The summaries of windows that have ended come back in <paramref name="due"/>.
    /// </summary>
    public bool Admit(AuditEntry entry, string reason, List<AuditEntry> due)
    {
        var project = entry.ProjectId ?? "";
        var client = $"{entry.RemoteAddress}|{entry.Actor}|{reason}";
        lock (_projects)
        {
            CloseEnded(entry.At, due);
            if (!_projects.TryGetValue(project, out var current))
                _projects[project] = current = new ProjectWindow(entry.At);
            current.LastAt = entry.At;
            if (current.Clients.TryGetValue(client, out var known))
            {
                known.Suppressed++;
                known.LastAt = entry.At;
                known.LastAction = entry.Action;
                return false;
            }
            if (current.Clients.Count < clientsPerWindow)
            {
                current.Clients[client] = new Client(entry);
                return true;
            }
            current.Overflow++;
            if (current.OverflowClients.Count < clientsPerWindow * 50) current.OverflowClients.Add(entry.RemoteAddress ?? "unknown");
            return false;
        }
    }

    /// <summary>The summaries of the windows that ended by <paramref name="now"/> (all of them when <paramref name="all"/>).</summary>
    public List<AuditEntry> TakeDue(DateTimeOffset now, bool all = false)
    {
        var due = new List<AuditEntry>();
        lock (_projects) CloseEnded(all ? DateTimeOffset.MaxValue : now, due);
        return due;
    }

    void CloseEnded(DateTimeOffset now, List<AuditEntry> due)
    {
        foreach (var (project, current) in _projects.Where(p => now == DateTimeOffset.MaxValue || now - p.Value.Start >= Window).ToList())
        {
            _projects.Remove(project);
            foreach (var client in current.Clients.Values.Where(c => c.Suppressed > 0))
                due.Add(Summary(client.First, client.First.RemoteAddress ?? "unknown", client.Suppressed, current.Start, client.LastAt, client.LastAction));
            if (current.Overflow > 0)
            {
                var first = current.Clients.Values.First().First;
                due.Add(Summary(first, null, current.Overflow, current.Start, current.LastAt, null) with
                {
                    DetailsJson = Details(new { refused = current.Overflow, clients = current.OverflowClients.Count, from = current.Start, to = current.LastAt, note = "calls from addresses beyond the per-window limit of recorded clients" }),
                });
            }
        }
    }

    static AuditEntry Summary(AuditEntry first, string? address, int refused, DateTimeOffset from, DateTimeOffset to, string? lastAction) => new()
    {
        At = to,
        ProjectId = first.ProjectId,
        Actor = address is null ? "anonymous (other clients)" : first.Actor,
        Action = "refused calls",
        Target = lastAction,
        Outcome = first.Outcome,
        DetailsJson = Details(new { refused, from, to, since = "the first refused call of this window, recorded on its own" }),
        RemoteAddress = address,
    };

    /// <summary>Cuts <paramref name="text"/> to <see cref="MaxTextChars"/>, saying how long it was.</summary>
    public static string? Bound(string? text) =>
        text is null || text.Length <= MaxTextChars ? text : $"{text[..MaxTextChars]}… ({text.Length} characters)";

    /// <summary>Details as JSON, no longer than <see cref="MaxDetailsChars"/>.</summary>
    public static string? Details(object? details)
    {
        if (details is null) return null;
        var json = JsonSerializer.Serialize(details, Json);
        if (json.Length <= MaxDetailsChars) return json;
        return JsonSerializer.Serialize(new { truncated = true, characters = json.Length, start = json[..(MaxDetailsChars / 2)] }, Json);
    }
}
