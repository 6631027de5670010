namespace Millrace.Tests.TestSupport;

/// <summary>Small data sets shared by tests.</summary>
public static class SampleData
{
    /// <summary>Six customers: three in north, one each in south, east and west.</summary>
    public const string CustomersCsv = """
        customer_id,name,region,spend
        1,Ann,north,10.5
        2,Bob,south,20
        3,Cid,north,30
        4,Dee,east,40
        5,Eve,west,50
        6,Fay,north,60

        """;

    /// <summary>How many rows of <see cref="CustomersCsv"/> are in the north region.</summary>
    public const int NorthCustomers = 3;

    public const int Customers = 6;
}
