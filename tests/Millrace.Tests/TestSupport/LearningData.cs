using System.Globalization;
using System.Text;

namespace Millrace.Tests.TestSupport;

/// <summary>
/// Small, seeded training sets with a known relation, written as CSV into a test lake. Each has one informative
/// column and noise columns, so metrics and feature importance have an expected answer.
/// </summary>
public static class LearningData
{
    static readonly string[] Regions = ["north", "south", "east", "west"];
    static readonly string[] Colors = ["red", "green", "blue"];
    static readonly DateOnly FirstSignup = new(2023, 1, 1);

    /// <summary>The informative column of <see cref="Customers"/>: a customer churns when tickets &gt;= 5.</summary>
    public const string Signal = "tickets";

    /// <summary>The newest signup day that is not in the newest fifth of <see cref="Customers"/> (signups spread over 365 days).</summary>
    public static readonly DateOnly NewestFifthStarts = FirstSignup.AddDays(292);

    /// <summary>
    /// Binary: <c>customer_id, region (4 values), plan (2), code (~150 values), tickets (0-9), minutes, signup (DATE),
    /// last_seen (TIMESTAMP), premium (BOOLEAN), churned (BOOLEAN)</c>. churned = tickets &gt;= 5, flipped for ~3% of
    /// rows; every <paramref name="nullLabelEvery"/>-th customer has no label. With <paramref name="reverseNewest"/>
    /// the relation is reversed for customers who signed up in the newest fifth of the year (a drift a time-based
    /// holdout sees and a random one mostly does not); with <paramref name="reverse"/> it is reversed for everyone
    /// (churned = tickets &lt; 5).
    /// </summary>
    public static string Customers(int rows = 400, int seed = 1, int nullLabelEvery = 0, bool reverseNewest = false, bool reverse = false, int firstId = 1)
    {
        var random = new Random(seed);
        var csv = new StringBuilder("customer_id,region,plan,code,tickets,minutes,signup,last_seen,premium,churned\n");
        for (var i = 0; i < rows; i++)
        {
            var id = firstId + i;
            var tickets = random.Next(10);
            var signup = FirstSignup.AddDays(random.Next(365));
            var lastSeen = new DateTime(2024, 1, 1).AddHours(random.Next(90 * 24));
            var churned = tickets >= 5 ^ random.NextDouble() < 0.03;
            if (reverse || (reverseNewest && signup > NewestFifthStarts)) churned = !churned;
            var label = nullLabelEvery > 0 && id % nullLabelEvery == 0 ? "" : Bool(churned);
            csv.Append(CultureInfo.InvariantCulture,
                $"{id},{Regions[random.Next(4)]},{(random.Next(2) == 0 ? "basic" : "pro")},c{random.Next(150)},{tickets},{Number(Math.Round(random.NextDouble() * 100, 2))}," +
                $"{signup:yyyy-MM-dd},{lastSeen:yyyy-MM-dd HH:mm:ss},{Bool(random.Next(2) == 0)},{label}\n");
        }
        return csv.ToString();
    }

    /// <summary>
    /// Multiclass: <c>id, x (0-9), noise, color (3 values), segment</c> with segment low (x &lt; 3), mid (x &lt; 6) or high.
    /// </summary>
    public static string Segments(int rows = 300, int seed = 2)
    {
        var random = new Random(seed);
        var csv = new StringBuilder("id,x,noise,color,segment\n");
        for (var i = 1; i <= rows; i++)
        {
            var x = Math.Round(random.NextDouble() * 9, 3);
            var segment = x < 3 ? "low" : x < 6 ? "mid" : "high";
            csv.Append(CultureInfo.InvariantCulture, $"{i},{Number(x)},{Number(Math.Round(random.NextDouble() * 9, 3))},{Colors[random.Next(3)]},{segment}\n");
        }
        return csv.ToString();
    }

    /// <summary>Regression: <c>id, x, z, noise, y</c> with y = 3x + 2z + small noise (x, z in 0-10).</summary>
    public static string Linear(int rows = 300, int seed = 3)
    {
        var random = new Random(seed);
        var csv = new StringBuilder("id,x,z,noise,y\n");
        for (var i = 1; i <= rows; i++)
        {
            var x = Math.Round(random.NextDouble() * 10, 3);
            var z = Math.Round(random.NextDouble() * 10, 3);
            var y = Math.Round(3 * x + 2 * z + (random.NextDouble() - 0.5), 3);
            csv.Append(CultureInfo.InvariantCulture, $"{i},{Number(x)},{Number(z)},{Number(Math.Round(random.NextDouble() * 10, 3))},{Number(y)}\n");
        }
        return csv.ToString();
    }

    static string Bool(bool value) => value ? "true" : "false";

    static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
