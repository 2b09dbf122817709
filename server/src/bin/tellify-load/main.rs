//! `tellify-load`: the benchmark load tool of issue 3.
//!
//! It drives a running Tellify over HTTP (and reads Redis for what HTTP does
//! not show: partition checkpoints, live alerts) and prints what it measured,
//! as human lines or, with `--json`, as one JSON object that
//! `scripts/bench.sh` turns into a table.
//!
//! The machine it was written for has two cores, shared by the server, Redis,
//! MongoDB and this tool. So the tool is built to be cheap: requests are
//! serialized before the clock starts, written over raw keep-alive TCP with a
//! minimal HTTP/1.1 framing ([`http`]), and by default all the load runs on
//! one thread (`--client-threads`), leaving the rest to the server.

mod baseline;
mod dispatch;
mod http;
mod latency;
mod load;
mod report;
mod setup;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::http::Target;
use crate::load::Until;
use crate::report::{Report, parse_duration};

#[derive(Parser, Debug)]
#[command(
    name = "tellify-load",
    about = "Load generator and benchmark probes for Tellify"
)]
struct Cli {
    /// Print one JSON object on stdout (the human lines go to stderr).
    #[arg(long, global = true)]
    json: bool,

    /// Threads of the client runtime; 1 keeps the tool on one core.
    #[arg(long, global = true, default_value_t = 1)]
    client_threads: usize,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Post events as fast as the server takes them.
    Ingest {
        /// Tellify's root URL, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        url: String,
        /// A token with the `ingest` scope.
        #[arg(long, env = "TELLIFY_LOAD_TOKEN", hide_env_values = true)]
        token: String,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// The same load against a bare axum handler (parse JSON, one XADD),
    /// started in this process: the yardstick for Tellify's ingest.
    Baseline {
        #[arg(
            long,
            env = "TELLIFY_REDIS_URL",
            default_value = "redis://127.0.0.1:6379/"
        )]
        redis_url: String,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Create the users, tokens and handler instances of a workload file.
    Setup {
        #[arg(long)]
        url: String,
        #[arg(long, env = "TELLIFY_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: String,
        /// Lines `{"owner":…,"body":…}` from `workload.py handlers`.
        #[arg(long)]
        handlers: PathBuf,
        /// Requests in flight.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Write `user token` lines here.
        #[arg(long)]
        tokens_out: Option<PathBuf>,
    },
    /// Post N events in batches and time the dispatcher catching up.
    Dispatch {
        #[arg(long)]
        url: String,
        #[arg(long, env = "TELLIFY_LOAD_TOKEN", hide_env_values = true)]
        token: String,
        /// One JSON event per line; cycled through if shorter than --count.
        #[arg(long)]
        events: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        count: usize,
        #[arg(long, default_value_t = 100)]
        batch: usize,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        #[command(flatten)]
        redis: RedisArgs,
        /// Number of dispatcher partitions (as Tellify's --partitions).
        #[arg(long, default_value_t = 16)]
        partitions: u32,
        /// How often to read the checkpoints while posting.
        #[arg(long, default_value = "100ms", value_parser = parse_duration)]
        sample: Duration,
        /// Give up waiting for the dispatcher after this long.
        #[arg(long, default_value = "60s", value_parser = parse_duration)]
        timeout: Duration,
    },
    /// End-to-end latency, POST to the alert on the live channel, at a
    /// steady rate.
    Latency {
        #[arg(long)]
        url: String,
        /// A token of --user with the `ingest` and `api` scopes.
        #[arg(long, env = "TELLIFY_LOAD_TOKEN", hide_env_values = true)]
        token: String,
        #[command(flatten)]
        redis: RedisArgs,
        /// The user the token belongs to (their live channel is watched).
        #[arg(long)]
        user: String,
        /// Events per second.
        #[arg(long, default_value_t = 1000.0)]
        rate: f64,
        #[arg(long, default_value = "10s", value_parser = parse_duration)]
        duration: Duration,
        /// Connections the scheduled requests are spread over.
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// How long to wait for the last alerts.
        #[arg(long, default_value = "5s", value_parser = parse_duration)]
        grace: Duration,
    },
    /// Resident memory of a process (VmRSS and its peak from /proc).
    Rss {
        #[arg(long)]
        pid: u32,
    },
}

#[derive(Args, Debug)]
struct LoadArgs {
    /// One JSON event per line; requests cycle through them.
    #[arg(long)]
    events: PathBuf,
    /// Events per request: 1 posts an object, more post an array.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Keep-alive connections, each with one request in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
}

#[derive(Args, Debug)]
struct RedisArgs {
    #[arg(
        long,
        env = "TELLIFY_REDIS_URL",
        default_value = "redis://127.0.0.1:6379/"
    )]
    redis_url: String,
    /// Tellify's Redis key prefix.
    #[arg(long, env = "TELLIFY_REDIS_PREFIX", default_value = "tellify:")]
    prefix: String,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = if cli.client_threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cli.client_threads)
            .enable_all()
            .build()?
    };
    let report = match cli.command {
        Command::Baseline { redis_url, load } => {
            // Built outside the client runtime: a runtime cannot be dropped
            // inside another.
            let server = baseline::Baseline::start(&redis_url)?;
            let target = Target::parse(&format!("http://{}", server.addr))?;
            let r = runtime.block_on(ingest("baseline", &target, "none", &load));
            server.stop()?;
            r?
        }
        Command::Ingest { url, token, load } => {
            runtime.block_on(ingest("ingest", &Target::parse(&url)?, &token, &load))?
        }
        Command::Setup {
            url,
            admin_token,
            handlers,
            concurrency,
            tokens_out,
        } => {
            let target = Target::parse(&url)?;
            let instances = setup::read_instances(&handlers)?;
            runtime.block_on(setup::run(
                &target,
                &admin_token,
                &instances,
                concurrency,
                tokens_out.as_deref(),
            ))?
        }
        Command::Dispatch {
            url,
            token,
            events,
            count,
            batch,
            concurrency,
            redis,
            partitions,
            sample,
            timeout,
        } => {
            let target = Target::parse(&url)?;
            let events = load::read_events(&events)?;
            runtime.block_on(dispatch::run(dispatch::Options {
                target: &target,
                token: &token,
                events: &events,
                count,
                batch,
                concurrency,
                redis_url: &redis.redis_url,
                prefix: &redis.prefix,
                partitions,
                sample,
                timeout,
            }))?
        }
        Command::Latency {
            url,
            token,
            redis,
            user,
            rate,
            duration,
            connections,
            grace,
        } => {
            let target = Target::parse(&url)?;
            runtime.block_on(latency::run(latency::Options {
                target: &target,
                token: &token,
                redis_url: &redis.redis_url,
                prefix: &redis.prefix,
                user: &user,
                rate,
                duration,
                connections,
                grace,
            }))?
        }
        Command::Rss { pid } => rss(pid)?,
    };
    report.print(cli.json);
    Ok(())
}

/// The closed-loop ingest load, against Tellify or the baseline.
async fn ingest(
    command: &'static str,
    target: &Target,
    token: &str,
    args: &LoadArgs,
) -> anyhow::Result<Report> {
    let events = load::read_events(&args.events)?;
    let requests = Arc::new(load::prepare(target, token, &events, args.batch));
    let mut outcome = load::run(
        target,
        requests,
        args.concurrency,
        Until::Elapsed(args.duration),
        None,
    )
    .await?;
    let mut r = Report::new(command);
    r.add("batch", "events per request", args.batch, "");
    r.add("concurrency", "connections", args.concurrency, "");
    outcome.report(&mut r);
    let (baseline_cpu, tool_cpu) = cpu_seconds();
    r.add_f("tool_cpu_s", "load tool CPU", tool_cpu, "s");
    if command == "baseline" {
        r.add_f("baseline_cpu_s", "baseline server CPU", baseline_cpu, "s");
    }
    Ok(r)
}

/// CPU time this process used so far, in seconds: (threads of the in-process
/// baseline server, all the others). From `/proc/self/task/*/stat`, with
/// Linux's user-space clock of 100 ticks a second.
fn cpu_seconds() -> (f64, f64) {
    let (mut baseline, mut other) = (0u64, 0u64);
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return (0.0, 0.0);
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // `pid (name) state …`: the name may hold spaces, so split at ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
        let ticks: u64 = fields
            .get(11..13)
            .map(|f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum())
            .unwrap_or(0);
        if head.contains("(baseline") {
            baseline += ticks;
        } else {
            other += ticks;
        }
    }
    (baseline as f64 / 100.0, other as f64 / 100.0)
}

/// `VmRSS` and `VmHWM` (the peak) of a process, in MB (10^6 bytes).
fn rss(pid: u32) -> anyhow::Result<Report> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let kb = |name: &str| -> anyhow::Result<f64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .with_context(|| format!("{path} has no {name}"))?;
        let n: f64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("bad line '{line}'"))?;
        Ok(n * 1024.0 / 1e6)
    };
    let mut r = Report::new("rss");
    r.add("pid", "process", pid, "");
    r.add_f("rss_mb", "resident memory (VmRSS)", kb("VmRSS:")?, "MB");
    r.add_f(
        "peak_rss_mb",
        "peak resident memory (VmHWM)",
        kb("VmHWM:")?,
        "MB",
    );
    Ok(r)
}
