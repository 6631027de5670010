using System.Globalization;
using System.Text;

namespace Millrace.Samples.Churn;

/// <summary>What the generator produced for one simulated day.</summary>
public sealed record ChurnDay(DateOnly Date, int CustomerChanges, int Events, int PlanChanges, int Churned, int ActiveCustomers);

/// <summary>
/// Generates the churn sample's landing zone, one folder per simulated day (<c>raw/&lt;feed&gt;/dt=YYYY-MM-DD/</c>):
/// customers (the day's new sign-ups and changed rows, full rows keyed by customer_id), events (daily activity),
/// plan_changes and churn_labels (customers who left that day). The same seed gives the same bytes.
/// Churn has signal the model can learn: customers on the basic plan, with support tickets and fading activity
/// leave more often, and their activity fades in the weeks before they leave.
/// </summary>
public sealed class ChurnLakeGenerator(string lakeRoot, int seed = 42, int initialCustomers = 2000, bool injectAnomalies = false, DateOnly? simulationStart = null)
{
    /// <summary>A known problem the generator plants on a known day (0-based index from the simulation start), for the anomaly detectors to find.</summary>
    public sealed record InjectedAnomaly(int Day, string Kind, string Description);

    /// <summary>
    /// What <c>injectAnomalies</c> plants: a volume spike (a marketing campaign triples activity), a schema change
    /// (the customers feed gains a column), a drifted feature (a price rise moves every monthly fee) and a batch of
    /// corrupt event rows. Every other day is clean.
    /// </summary>
    public static readonly IReadOnlyList<InjectedAnomaly> Anomalies =
    [
        new(9, "volume", "events: a campaign triples the day's activity"),
        new(13, "schema_change", "customers feed gains a column 'referral_code'"),
        new(22, "drift", "price rise: every monthly fee goes up 60%, all customers re-sent"),
        new(26, "corrupt_rows", "events: 3 malformed lines in the day's file"),
    ];

    int _day;
    DateOnly? _start;

    bool Injected(string kind) => injectAnomalies && Anomalies.Any(a => a.Day == _day && a.Kind == kind);
    bool AfterPriceRise => injectAnomalies && _day >= Anomalies.Single(a => a.Kind == "drift").Day;
    bool AfterSchemaChange => injectAnomalies && _day >= Anomalies.Single(a => a.Kind == "schema_change").Day;
    static readonly string[] Regions = ["north", "south", "east", "west"];
    static readonly string[] Plans = ["basic", "standard", "premium"];
    static readonly decimal[] Fees = [19.0m, 39.0m, 79.0m];

    sealed class Customer
    {
        public required int Id { get; init; }
        public required string Region { get; set; }
        public required int Plan { get; set; }
        public required DateOnly SignupDate { get; init; }
        public string Status { get; set; } = "active";
        public double Engagement { get; set; }   // expected events per day
        public double Risk { get; set; }         // latent propensity to leave
        public int DaysFading { get; set; } = -1; // >= 0 once the customer has decided to leave
    }

    readonly Random _random = new(seed);
    readonly List<Customer> _customers = [];
    long _nextEventId = 1;

    /// <summary>Generates <paramref name="days"/> consecutive days starting at <paramref name="start"/>.</summary>
    public IReadOnlyList<ChurnDay> Generate(DateOnly start, int days, Action<ChurnDay>? progress = null)
    {
        var result = new List<ChurnDay>();
        for (var d = 0; d < days; d++)
        {
            var day = Generate(start.AddDays(d));
            result.Add(day);
            progress?.Invoke(day);
        }
        return result;
    }

    /// <summary>
    /// Generates the drop of one day: call it for consecutive days (the first call makes the initial population).
    /// The quickstart calls it day by day, so each run finds exactly one new day in the landing zone.
    /// </summary>
    public ChurnDay Generate(DateOnly date)
    {
        var first = _customers.Count == 0;
        _start ??= simulationStart ?? date;
        _day = date.DayNumber - _start.Value.DayNumber;
        var changed = new HashSet<Customer>();
        var planChanges = new StringBuilder("customer_id,old_plan,new_plan,changed_at\n");
        var labels = new StringBuilder("customer_id,churned_at,plan,region\n");
        int planChangeCount = 0, churnCount = 0;

        // Sign-ups roughly balance churn, so the business (and the daily volume) stays steady over the simulation.
        var signups = first ? initialCustomers : Poisson(initialCustomers / 220.0);
        for (var i = 0; i < signups; i++)
        {
            var plan = Pick([0.45, 0.35, 0.20]);
            var customer = new Customer
            {
                Id = _customers.Count + 1,
                Region = Regions[_random.Next(Regions.Length)],
                Plan = plan,
                SignupDate = first ? date.AddDays(-_random.Next(30, 900)) : date,
                Engagement = 1.0 + _random.NextDouble() * 3.0 + plan * 0.5,
                Risk = 0.6 + _random.NextDouble() * 0.8 - plan * 0.25,
            };
            _customers.Add(customer);
            changed.Add(customer);
        }

        var events = new StringBuilder("event_id,customer_id,event_time,event_type,amount,duration_minutes\n");
        var eventCount = 0;
        foreach (var customer in _customers.Where(c => c.Status == "active"))
        {
            if (customer.DaysFading < 0 && _random.NextDouble() < 0.0035 * customer.Risk * (customer.Plan == 0 ? 1.6 : 1.0))
                customer.DaysFading = 0; // decides to leave; activity fades for 7-28 days first
            var fade = customer.DaysFading < 0 ? 1.0 : Math.Max(0.05, 1.0 - customer.DaysFading / 20.0);
            var count = Poisson(customer.Engagement * fade * (Injected("volume") ? 3 : 1));
            for (var e = 0; e < count; e++)
            {
                var type = PickType(customer);
                var time = date.ToDateTime(new TimeOnly(_random.Next(6, 23), _random.Next(60), _random.Next(60)));
                var amount = type == "payment" ? Fee(customer.Plan).ToString(CultureInfo.InvariantCulture) : "";
                var duration = type is "session" or "feature_use" ? _random.Next(1, 90).ToString(CultureInfo.InvariantCulture) : "";
                events.Append(CultureInfo.InvariantCulture, $"{_nextEventId++},{customer.Id},{time:yyyy-MM-dd HH:mm:ss},{type},{amount},{duration}\n");
                eventCount++;
            }

            if (customer.DaysFading >= 0)
            {
                customer.DaysFading++;
                if (customer.DaysFading > 7 && _random.NextDouble() < 0.08)
                {
                    customer.Status = "churned";
                    changed.Add(customer);
                    labels.Append(CultureInfo.InvariantCulture, $"{customer.Id},{date:yyyy-MM-dd},{Plans[customer.Plan]},{customer.Region}\n");
                    churnCount++;
                    continue;
                }
            }
            if (!first && _random.NextDouble() < 0.002)
            {
                var old = customer.Plan;
                customer.Plan = customer.DaysFading >= 0 || _random.NextDouble() < 0.4 ? Math.Max(0, old - 1) : Math.Min(2, old + 1);
                if (customer.Plan != old)
                {
                    planChanges.Append(CultureInfo.InvariantCulture, $"{customer.Id},{Plans[old]},{Plans[customer.Plan]},{date:yyyy-MM-dd}\n");
                    planChangeCount++;
                    changed.Add(customer);
                }
            }
            if (!first && _random.NextDouble() < 0.0008)
            {
                customer.Region = Regions[_random.Next(Regions.Length)];
                changed.Add(customer);
            }
        }

        if (Injected("drift"))
            foreach (var c in _customers) changed.Add(c); // the price rise touches every customer row
        if (Injected("corrupt_rows"))
            events.Append("not-a-number,17,2026-13-45 99:99:99,session,,\n;;;;\n").Append(CultureInfo.InvariantCulture, $"{_nextEventId++},oops,{date:yyyy-MM-dd} 10:00:00,session\n");
        var extra = AfterSchemaChange ? ",referral_code" : "";
        var customers = new StringBuilder($"customer_id,region,plan,monthly_fee,signup_date,status,updated_at{extra}\n");
        foreach (var c in changed.OrderBy(c => c.Id))
            customers.Append(CultureInfo.InvariantCulture, $"{c.Id},{c.Region},{Plans[c.Plan]},{Fee(c.Plan)},{c.SignupDate:yyyy-MM-dd},{c.Status},{date:yyyy-MM-dd} 23:59:00{(extra.Length > 0 ? $",R{c.Id % 97}" : "")}\n");

        Write("customers", date, "customers.csv", customers);
        Write("events", date, "events.csv", events);
        Write("plan_changes", date, "plan_changes.csv", planChanges);
        Write("churn_labels", date, "churn_labels.csv", labels);
        return new ChurnDay(date, changed.Count, eventCount, planChangeCount, churnCount, _customers.Count(c => c.Status == "active"));
    }

    decimal Fee(int plan) => AfterPriceRise ? Fees[plan] * 1.6m : Fees[plan];

    string PickType(Customer customer)
    {
        var ticket = 0.04 + customer.Risk * 0.05 + (customer.DaysFading >= 0 ? 0.12 : 0);
        var r = _random.NextDouble();
        if (r < ticket) return "support_ticket";
        if (r < ticket + 0.03) return "payment";
        if (r < ticket + 0.45) return "feature_use";
        return "session";
    }

    int Pick(double[] weights)
    {
        var r = _random.NextDouble();
        for (var i = 0; i < weights.Length; i++)
        {
            if (r < weights[i]) return i;
            r -= weights[i];
        }
        return weights.Length - 1;
    }

    int Poisson(double mean)
    {
        // Knuth's method is fine for the small means used here.
        var limit = Math.Exp(-mean);
        var product = _random.NextDouble();
        var count = 0;
        while (product > limit) { count++; product *= _random.NextDouble(); }
        return count;
    }

    void Write(string feed, DateOnly date, string name, StringBuilder content)
    {
        var folder = Path.Combine(lakeRoot, "raw", feed, $"dt={date:yyyy-MM-dd}");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, name), content.ToString());
    }
}
