using Millrace.Lake;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Lake;

public sealed class LakePathResolutionTests : IDisposable
{
    readonly TempDirectory _folder = new("lake");
    readonly LakeRoot _lake;

    public LakePathResolutionTests() => _lake = new LakeRoot(Path.Combine(_folder.Path, "lake"));

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("a/./../../x")]
    [InlineData("..")]
    [InlineData("a\\..\\..\\x")]
    public void A_path_that_climbs_above_the_root_is_refused(string path)
    {
        var error = Assert.Throws<LakePathException>(() => _lake.Resolve(path));

        Assert.Contains($"'{path}'", error.Message);
        Assert.Contains("leaves the lake root", error.Message);
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("~/x")]
    [InlineData("s3://bucket/x")]
    [InlineData("file:///etc/passwd")]
    [InlineData("C:/Windows")]
    public void An_absolute_path_or_URI_is_refused(string path)
    {
        var error = Assert.Throws<LakePathException>(() => _lake.Resolve(path));

        Assert.Contains($"'{path}'", error.Message);
        Assert.Contains("relative to the lake root", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void An_empty_path_is_refused(string path)
    {
        Assert.Throws<LakePathException>(() => _lake.Resolve(path));
    }

    [Theory]
    [InlineData("a/../b", "b")]
    [InlineData("raw/events/dt=*/*.csv", "raw/events/dt=*/*.csv")]
    [InlineData("./raw/./a.csv", "raw/a.csv")]
    public void A_path_that_stays_inside_resolves_under_the_root(string path, string expected)
    {
        var resolved = _lake.Resolve(path);

        Assert.Equal(Path.Combine(_lake.Root, expected), resolved);
        Assert.Equal(expected, _lake.ToRelative(resolved));
    }

    [Fact]
    public void A_sibling_folder_sharing_the_root_name_as_prefix_is_outside()
    {
        // <tmp>/lake-evil starts with "<tmp>/lake" but is not under it.
        Assert.Throws<LakePathException>(() => _lake.Resolve("../lake-evil/x"));
    }
}
