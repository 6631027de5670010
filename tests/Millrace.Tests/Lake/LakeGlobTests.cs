using Millrace.Lake;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Lake;

public sealed class LakeGlobTests : IDisposable
{
    readonly TempDirectory _folder = new("glob");
    readonly LakeRoot _lake;

    public LakeGlobTests()
    {
        _lake = new LakeRoot(Path.Combine(_folder.Path, "lake"));
        // Written out of order on purpose: results must come back sorted.
        foreach (var file in new[]
        {
            "raw/b.csv", "raw/a.csv", "raw/c.json", "raw/sub/d.csv", "raw/sub/deeper/e.csv",
            "raw/.hidden.csv", "raw/_SUCCESS", "raw/_part.csv", "raw/.git/f.csv", "raw/_temporary/g.csv",
            "raw/events/dt=2024-01-02/y.csv", "raw/events/dt=2024-01-01/x.csv", "raw/events/dt=2024-01-01/x.json",
            "raw/events/dt=2024-01-10/z.csv",
        })
            _folder.Write(Path.Combine("lake", file), "x\n1\n");
    }

    public void Dispose() => _folder.Dispose();

    IReadOnlyList<string> Match(string pattern) => LakeGlob.Match(_lake, pattern).Select(f => f.Path).ToList();

    [Fact]
    public void Star_matches_within_one_folder()
    {
        Assert.Equal(["raw/a.csv", "raw/b.csv"], Match("raw/*.csv"));
    }

    [Fact]
    public void Double_star_matches_across_folders_including_none()
    {
        Assert.Equal(
            ["raw/a.csv", "raw/b.csv", "raw/events/dt=2024-01-01/x.csv", "raw/events/dt=2024-01-02/y.csv", "raw/events/dt=2024-01-10/z.csv", "raw/sub/d.csv", "raw/sub/deeper/e.csv"],
            Match("raw/**/*.csv"));
    }

    [Fact]
    public void A_partition_glob_matches_every_partition_folder_in_order()
    {
        Assert.Equal(["raw/events/dt=2024-01-01/x.csv", "raw/events/dt=2024-01-02/y.csv", "raw/events/dt=2024-01-10/z.csv"], Match("raw/events/dt=*/*.csv"));
    }

    [Fact]
    public void Question_mark_and_character_classes_match_one_character()
    {
        Assert.Equal(["raw/events/dt=2024-01-01/x.csv", "raw/events/dt=2024-01-02/y.csv"], Match("raw/events/dt=2024-01-0?/*.csv"));
        Assert.Equal(["raw/a.csv"], Match("raw/[a].csv"));
        Assert.Equal(["raw/b.csv"], Match("raw/[!a].csv"));
    }

    [Fact]
    public void Hidden_and_underscore_files_are_skipped()
    {
        var all = Match("raw/**");

        Assert.DoesNotContain("raw/.hidden.csv", all);
        Assert.DoesNotContain("raw/_SUCCESS", all);
        Assert.DoesNotContain("raw/_part.csv", all);
        Assert.Contains("raw/c.json", all);
    }

    [Fact]
    public void Files_under_hidden_and_underscore_folders_are_skipped()
    {
        var all = Match("raw/**/*.csv");

        Assert.DoesNotContain("raw/.git/f.csv", all);
        Assert.DoesNotContain("raw/_temporary/g.csv", all);
    }

    [Fact]
    public void A_plain_file_path_matches_that_file_and_a_folder_matches_its_files()
    {
        Assert.Equal(["raw/a.csv"], Match("raw/a.csv"));
        Assert.Equal(["raw/sub/d.csv", "raw/sub/deeper/e.csv"], Match("raw/sub"));
    }

    [Fact]
    public void Nothing_matching_gives_an_empty_list()
    {
        Assert.Empty(Match("raw/*.parquet"));
        Assert.Empty(Match("missing/dt=*/*.csv"));
        Assert.Empty(Match("missing.csv"));
    }

    [Fact]
    public void Results_carry_size_and_modification_time()
    {
        var file = Assert.Single(LakeGlob.Match(_lake, "raw/a.csv"));

        Assert.Equal(4, file.Size);
        Assert.Equal(File.GetLastWriteTimeUtc(_lake.Resolve("raw/a.csv")), file.Modified.UtcDateTime);
    }

    [Fact]
    public void A_pattern_that_leaves_the_lake_is_refused()
    {
        Assert.Throws<LakePathException>(() => Match("../*.csv"));
    }
}
