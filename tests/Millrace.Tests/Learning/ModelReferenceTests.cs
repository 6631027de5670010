using Millrace.Learning;

namespace Millrace.Tests.Learning;

public sealed class ModelReferenceTests
{
    [Theory]
    [InlineData("churn", "churn", null, "champion", "churn@champion")]
    [InlineData("churn@champion", "churn", null, "champion", "churn@champion")]
    [InlineData("churn@challenger", "churn", null, "challenger", "churn@challenger")]
    [InlineData("churn@v12", "churn", 12, null, "churn@v12")]
    [InlineData("churn@v1", "churn", 1, null, "churn@v1")]
    [InlineData("churn@vip", "churn", null, "vip", "churn@vip")]
    [InlineData("churn@v0", "churn", null, "v0", "churn@v0")]
    public void A_reference_names_a_model_and_a_version_or_an_alias(string text, string name, int? version, string? alias, string canonical)
    {
        var reference = ModelReference.Parse(text);

        Assert.Equal((name, version, alias), (reference.Name, reference.Version, reference.Alias));
        Assert.Equal(canonical, reference.ToString());
    }

    [Theory]
    [InlineData("churn@")]
    [InlineData("@v1")]
    [InlineData("@")]
    public void A_reference_without_a_name_or_a_suffix_is_rejected_with_the_forms_it_accepts(string text)
    {
        var error = Assert.Throws<FormatException>(() => ModelReference.Parse(text));

        Assert.Equal($"'{text}' is not a model reference: write name, name@alias or name@vN", error.Message);
    }
}
