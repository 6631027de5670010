using Millrace.Reports;

namespace Millrace.Tests.Reports;

/// <summary>How KPI values and their changes read: counts, percentages in points, currency with its symbol.</summary>
public sealed class KpiValueFormattingTests
{
    [Theory]
    [InlineData(KpiFormat.Number, null, 1234.0, 1200.0, "1,234", "+34 (+2.8%)", "up")]
    [InlineData(KpiFormat.Number, null, 12.5, 13.0, "12.50", "−0.50 (−3.8%)", "down")]
    [InlineData(KpiFormat.Number, 1, 3.0, 3.0, "3.0", "±0.0 (+0.0%)", "flat")]
    [InlineData(KpiFormat.Percent, null, 0.1234, 0.1, "12.3%", "+2.3 pp", "up")]
    [InlineData(KpiFormat.Percent, 0, 0.5, 0.75, "50%", "−25 pp", "down")]
    [InlineData(KpiFormat.Currency, null, 1500.0, 0.0, "$1,500.00", "+$1,500.00", "up")]
    [InlineData(KpiFormat.Currency, 0, -20.0, 10.0, "−$20", "−$30 (−300.0%)", "down")]
    public void Values_and_changes_read_as_a_person_expects(KpiFormat format, int? decimals, double value, double previous, string shown, string change, string direction)
    {
        var kpi = new KpiValue("k", value, previous, format, decimals);
        Assert.Equal(shown, kpi.FormattedValue);
        Assert.Equal(change, kpi.FormattedChange);
        Assert.Equal(direction, kpi.Direction);
    }

    [Fact]
    public void Without_a_previous_value_there_is_no_change_and_null_reads_as_a_dash()
    {
        var kpi = new KpiValue("k", null, null, KpiFormat.Number);
        Assert.Equal("—", kpi.FormattedValue);
        Assert.Null(kpi.FormattedChange);
        Assert.Null(kpi.Direction);
        Assert.Null(new KpiValue("k", 3, null, KpiFormat.Number).Change);
    }

    [Fact]
    public void Whether_a_change_is_good_depends_on_which_way_is_better()
    {
        Assert.True(new KpiValue("revenue", 11, 10, KpiFormat.Number).IsImprovement);
        Assert.False(new KpiValue("at risk", 11, 10, KpiFormat.Number, HigherIsBetter: false).IsImprovement);
        Assert.True(new KpiValue("at risk", 9, 10, KpiFormat.Number, HigherIsBetter: false).IsImprovement);
        Assert.Null(new KpiValue("flat", 10, 10, KpiFormat.Number).IsImprovement);
        Assert.Equal("€7.50", new KpiValue("k", 7.5, null, KpiFormat.Currency, Symbol: "€").FormattedValue);
    }
}
