using Millrace.Reports;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Reports;

/// <summary>The page needs nothing from anywhere: no network reference, no script, and text cannot add markup.</summary>
public sealed class ReportSelfContainedTests
{
    [Fact]
    public async Task The_page_has_no_network_reference_no_script_and_escapes_parameters()
    {
        await using var project = ReportTestSupport.SalesProject();
        await project.RunForDateAsync("daily", "2026-01-07", ("focus", "<script>alert(1)</script> https://evil.example"));
        var html = project.ReportFile("sales", "2026-01-07");

        Assert.DoesNotContain("http://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", html.Replace("https://evil.example", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html, StringComparison.Ordinal);
        Assert.DoesNotContain("url(", html.Replace("url(#chart", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain(" src=", html, StringComparison.Ordinal);
        Assert.Contains("Figures for <strong>&lt;script&gt;alert(1)&lt;/script&gt; https://evil.example</strong> on 2026-01-07", html, StringComparison.Ordinal);
        Assert.Contains("&lt;all regions&gt;", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_page_without_parameters_in_text_has_no_http_reference_at_all()
    {
        await using var project = ReportTestSupport.SalesProject();
        await project.RunForDateAsync("daily", "2026-01-07");
        var html = project.ReportFile("sales", "2026-01-07");
        Assert.DoesNotMatch("https?://", html);
        Assert.StartsWith("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">", html, StringComparison.Ordinal);
        Assert.Contains("<title>Sales on 2026-01-07 — 2026-01-07</title>", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("one\ntwo\n\nthree", "<p>one two</p>\n<p>three</p>\n")]
    [InlineData("- a **b**\n- `c*d*` and *e*", "<ul><li>a <strong>b</strong></li><li><code>c*d*</code> and <em>e</em></li></ul>\n")]
    [InlineData("# Head\nbody <b>", "<h3>Head</h3>\n<p>body &lt;b&gt;</p>\n")]
    [InlineData("[link](https://x.example)", "<p>[link](https://x.example)</p>\n")]
    public void Markdown_ish_text_becomes_escaped_html(string text, string html) =>
        Assert.Equal(html, ReportText.ToHtml(text));
}
