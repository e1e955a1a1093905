//! The bench's command line.

use clap::{Args, ValueEnum};

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Ingest throughput only.
    Ingest,
    /// Direct rate, delivered events/s and latency.
    Delivery,
    /// Direct rate and the catch-up after an outage with a backlog (at two backlog sizes).
    CatchUp,
    /// The delivery shapes of a backlog: the direct rate, the drain to 1 and 10 destinations,
    /// the first delivery after outages, and a destination failing a share of its requests.
    Drain,
    /// Everything.
    All,
}

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(long, value_enum, default_value_t = Scenario::All)]
    pub scenario: Scenario,
    /// Events per ingest request of the ingest measurements (one measurement each).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 100, 1_000])]
    pub ingest_batches: Vec<usize>,
    /// Single-event ingest requests of the one-event-per-request shape (0: not measured).
    #[arg(long, default_value_t = 20_000)]
    pub single_events: usize,
    /// Connections of the one-event-per-request shape (GitLab streams from many at once).
    #[arg(long, default_value_t = 16)]
    pub single_connections: usize,
    /// Distinct group paths to spread batches of 100 over, e.g. `10000,100000`: each is
    /// measured while its namespaces are new and again once they are known (none by default).
    #[arg(long, value_delimiter = ',')]
    pub namespaces: Vec<usize>,
    /// Events per ingest request when the delivery and catch-up measurements fill the log.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Concurrent producer connections.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Events per ingest measurement (after a warm-up of one batch per client); a tenth of it
    /// with batches of fewer than 10 events.
    #[arg(long, default_value_t = 200_000)]
    pub events: usize,
    /// Run auditrelay on PostgreSQL instead of the embedded store: a server URL whose user may
    /// create databases. Each measurement gets a scratch database, dropped afterwards.
    #[arg(long, alias = "postgres-url", env = "AUDITRELAY_BENCH_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Single-event requests the load generator posts straight to the receiver (the direct rate).
    #[arg(long, default_value_t = 200_000)]
    pub direct_requests: usize,
    /// Keep-alive connections of the direct load generator.
    #[arg(long, default_value_t = 16)]
    pub direct_connections: usize,
    /// Events ingested per delivery measurement (every destination gets all of them).
    #[arg(long, default_value_t = 100_000)]
    pub delivery_events: usize,
    /// Numbers of HTTP destinations to deliver to (at most 10: 5 on the group, 5 on the instance).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 10])]
    pub destinations: Vec<usize>,
    /// Requests in flight per destination to measure with, e.g. `8,16,32` (default: the
    /// server's own default, `AUDITRELAY_DELIVERY_IN_FLIGHT` or 8).
    #[arg(long, value_delimiter = ',')]
    pub in_flight: Vec<usize>,
    /// Offered rates (events/s) of the latency measurement, to one destination.
    #[arg(long, value_delimiter = ',', default_values_t = [1_000, 5_000, 20_000])]
    pub latency_rates: Vec<usize>,
    /// Seconds each latency rate is offered (0: no latency measurement).
    #[arg(long, default_value_t = 10)]
    pub latency_seconds: u64,
    /// Events behind a destination during its outage; the catch-up is also measured with a
    /// tenth of it, to show the memory does not grow with the backlog (0: no catch-up).
    #[arg(long, default_value_t = 1_000_000)]
    pub backlog: usize,
    /// Events behind each destination in the drain and partial-failure measurements.
    #[arg(long, default_value_t = 100_000)]
    pub drain_events: usize,
    /// Numbers of destinations the backlog is drained to (at most 10).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 10])]
    pub drain_destinations: Vec<usize>,
    /// Outages (seconds) after which the time to the first delivery is measured (0: skip).
    #[arg(long, value_delimiter = ',', default_values_t = [5, 75])]
    pub outage_seconds: Vec<u64>,
    /// Share of requests the partly failing destination answers with 500, at random (0: skip).
    #[arg(long, default_value_t = 0.2)]
    pub failure_share: f64,
    /// Print the results as JSON instead of a table (only the JSON goes to stdout).
    #[arg(long)]
    pub json: bool,
}
