//! The `tellify` binary: configuration, tracing, then the application.

use clap::Parser;
use tellify_server::{Application, Config, shutdown_signal};
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    tune_malloc();
    tokio::runtime::Runtime::new()?.block_on(serve())
}

/// glibc's malloc, as it comes, kept hundreds of MB resident that the server
/// no longer used: the dispatcher's commits and the alert writer's batches
/// allocate tens of MB at a time, glibc then raises its mmap threshold so
/// such buffers come from the heap, where freed memory stays; and each thread
/// may get an arena of its own. A fixed 128 KiB threshold (large buffers are
/// mapped and given back when freed) and two arenas took RSS after 100,000
/// events with 10,000 instances from ~466 MB to ~270 MB, at the same speed
/// (README, Benchmark). Must run before any other thread starts.
#[allow(unsafe_code)]
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before threads.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

async fn serve() -> anyhow::Result<()> {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info")),
        )
        .init();
    let app = Application::build(config).await?;
    if let Some(first) = &app.first_start {
        print_first_start(first, &app.state().config.base_url);
    }
    app.run_until(shutdown_signal()).await
}

/// Told once, on the first start: how to get in.
fn print_first_start(c: &tellify_server::startup::AdminCredentials, base_url: &str) {
    println!("\n=== Tellify first start: an 'admin' user was created ===");
    match &c.password {
        Some(p) => println!("  admin password: {p}   (shown once; change it in the settings)"),
        None => println!("  admin password: as given in TELLIFY_ADMIN_PASSWORD"),
    }
    match &c.token {
        Some(t) => println!("  admin token:    {t}   (scopes ingest, api, admin; shown once)"),
        None => println!("  admin token:    as given in TELLIFY_ADMIN_TOKEN"),
    }
    println!("  dashboard:      {base_url}/");
    println!(
        "  try:            curl -H 'Authorization: Bearer <token>' -H 'Content-Type: text/plain' \\"
    );
    println!(
        "                       --data 'project:vr0 block:gc_t status:failed' {base_url}/events"
    );
    println!("==========================================================\n");
}
