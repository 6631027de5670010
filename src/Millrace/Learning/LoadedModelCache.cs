using Microsoft.ML;

namespace Millrace.Learning;

/// <summary>
/// A model version loaded into memory: its ML.NET context and transformer, and what it weighs (<c>Bytes</c>, the size of
/// its file, which the cache's byte bound counts as an estimate of its memory).
/// </summary>
internal sealed record LoadedModel(MLContext Ml, ITransformer Transformer, long Bytes);

/// <summary>
/// The models an <see cref="OnlineScorer"/> keeps loaded, by model name and version, least recently used first out:
/// at most <c>maxModels</c> entries and <c>maxBytes</c> of model files (the most recently used entry is kept even when
/// it alone is larger). Concurrent requests for a version that is not loaded share one load; a load that fails is not
/// kept, so the next request tries again. A load runs on the cache's own token, not the first caller's: a caller that
/// gives up stops waiting, and the others still get the model. Thread-safe.
/// </summary>
internal sealed class LoadedModelCache(int maxModels, long maxBytes) : IDisposable
{
    readonly Lock _gate = new();
    readonly Dictionary<(string Name, int Version), LinkedListNode<Entry>> _entries = [];
    // Most recently used first.
    readonly LinkedList<Entry> _recency = new();
    readonly CancellationTokenSource _disposed = new();
    long _bytes;

    sealed class Entry((string Name, int Version) key)
    {
        public (string Name, int Version) Key { get; } = key;
        public Task<LoadedModel> Load { get; set; } = null!;
        /// <summary>Counted in the byte bound once loaded; 0 while loading.</summary>
        public long Bytes { get; set; }
    }

    /// <summary>Entries held now (loaded or loading).</summary>
    public int Count
    {
        get { lock (_gate) return _entries.Count; }
    }

    /// <summary>Bytes of the loaded entries held now.</summary>
    public long Bytes
    {
        get { lock (_gate) return _bytes; }
    }

    /// <summary>True when <paramref name="name"/> v<paramref name="version"/> is held (loaded or loading).</summary>
    public bool Contains(string name, int version)
    {
        lock (_gate) return _entries.ContainsKey((name, version));
    }

    /// <summary>
    /// The loaded model of <paramref name="name"/> v<paramref name="version"/>: from the cache, from a load another
    /// caller started, or loaded now by <paramref name="load"/> (outside the cache's lock).
    /// </summary>
    public Task<LoadedModel> GetAsync(string name, int version, Func<CancellationToken, Task<LoadedModel>> load, CancellationToken ct)
    {
        Entry entry;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            if (_entries.TryGetValue((name, version), out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                entry = node.Value;
            }
            else
            {
                entry = new Entry((name, version));
                _entries[entry.Key] = _recency.AddFirst(entry);
                var token = _disposed.Token;
                entry.Load = Task.Run(() => LoadAsync(entry, load, token), CancellationToken.None);
                Evict();
            }
        }
        return entry.Load.WaitAsync(ct);
    }

    async Task<LoadedModel> LoadAsync(Entry entry, Func<CancellationToken, Task<LoadedModel>> load, CancellationToken ct)
    {
        LoadedModel model;
        try
        {
            model = await load(ct);
        }
        catch
        {
            lock (_gate)
            {
                if (_entries.TryGetValue(entry.Key, out var node) && node.Value == entry) Remove(node);
            }
            throw;
        }
        lock (_gate)
        {
            // Still held (not evicted or invalidated while it loaded): now it counts in the byte bound.
            if (_entries.TryGetValue(entry.Key, out var node) && node.Value == entry)
            {
                entry.Bytes = model.Bytes;
                _bytes += model.Bytes;
                Evict();
            }
        }
        return model;
    }

    /// <summary>Drops <paramref name="name"/> v<paramref name="version"/>; callers already holding it keep their copy.</summary>
    public void Remove(string name, int version)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue((name, version), out var node)) Remove(node);
        }
    }

    void Evict()
    {
        while (_recency.Count > 1 && (_recency.Count > maxModels || _bytes > maxBytes)) Remove(_recency.Last!);
    }

    void Remove(LinkedListNode<Entry> node)
    {
        _recency.Remove(node);
        _entries.Remove(node.Value.Key);
        _bytes -= node.Value.Bytes;
    }

    /// <summary>Stops the loads under way and drops every entry.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed.IsCancellationRequested) return;
            _disposed.Cancel();
            _entries.Clear();
            _recency.Clear();
            _bytes = 0;
        }
        _disposed.Dispose();
    }
}
