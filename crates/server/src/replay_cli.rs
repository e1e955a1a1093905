//! `auditrelay replay`: asks a running service to re-send a destination's events (a range of
//! the log, or its parked events) and follows the progress. Uses the REST API, so the same
//! authorization and service rules apply as everywhere else.

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Args, Debug, Clone)]
pub struct ReplayArgs {
    /// The service's base URL.
    #[arg(long, env = "AUDITRELAY_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// A personal access token of the destination's group Owner or of an admin.
    #[arg(long, env = "AUDITRELAY_TOKEN", hide_env_values = true)]
    pub token: String,
    /// The destination's numeric id (the number at the end of its global id).
    #[arg(long)]
    pub destination: i64,
    /// Re-send the destination's parked events instead of a range.
    #[arg(long, conflicts_with_all = ["from_seq", "to_seq", "created_after", "created_before"])]
    pub parked: bool,
    #[arg(long)]
    pub from_seq: Option<i64>,
    #[arg(long)]
    pub to_seq: Option<i64>,
    /// ISO-8601 date-time or date.
    #[arg(long)]
    pub created_after: Option<String>,
    #[arg(long)]
    pub created_before: Option<String>,
    /// Do not wait for the replay to finish.
    #[arg(long)]
    pub no_wait: bool,
}

pub async fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let client = Client {
        http: reqwest::Client::new(),
        base: format!("{}/api/v4/streaming_destinations/{}", args.url.trim_end_matches('/'), args.destination),
        token: args.token.clone(),
    };
    if args.parked {
        return resend_parked(&client, &args).await;
    }
    let body = json!({"from_seq": args.from_seq, "to_seq": args.to_seq, "created_after": args.created_after, "created_before": args.created_before});
    let replay = client.send(reqwest::Method::POST, "/replays", Some(body)).await?;
    let id = replay["id"].as_i64().context("the service answered without a replay id")?;
    let (from, to) = (replay["from_seq"].as_i64().unwrap_or(0), replay["to_seq"].as_i64().unwrap_or(0));
    println!("replay {id} of destination {}: log positions {from}..={to}", args.destination);
    if args.no_wait {
        return Ok(());
    }
    let bar = ProgressBar::new((to - from + 1).max(0) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} log positions, {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    loop {
        let status = client.send(reqwest::Method::GET, &format!("/replays/{id}"), None).await?;
        bar.set_position((status["next_seq"].as_i64().unwrap_or(from) - from).max(0) as u64);
        bar.set_message(format!("{} events sent", status["sent"]));
        if status["state"] == "done" {
            bar.finish();
            println!("replay {id} done: {} events sent", status["sent"]);
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn resend_parked(client: &Client, args: &ReplayArgs) -> anyhow::Result<()> {
    let answer = client.send(reqwest::Method::POST, "/resend_parked", Some(json!({}))).await?;
    let total = answer["resent"].as_u64().unwrap_or(0);
    println!("re-sending {total} parked events of destination {}", args.destination);
    if args.no_wait || total == 0 {
        return Ok(());
    }
    let bar = ProgressBar::new(total);
    loop {
        let destination = client.send(reqwest::Method::GET, "", None).await?;
        let left = destination["health"]["parked"].as_u64().unwrap_or(0);
        bar.set_position(total.saturating_sub(left));
        if left == 0 {
            bar.finish();
            println!("all parked events were delivered");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let mut request =
            self.http.request(method, format!("{}{path}", self.base)).header("PRIVATE-TOKEN", &self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.with_context(|| format!("cannot reach {}", self.base))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("the service answered {status}: {body}");
        }
        Ok(body)
    }
}
