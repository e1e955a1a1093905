//! The `auditrelay` binary: parse the command line and hand over to the library.

use auditrelay_server::cli::{Cli, Command};
use clap::Parser;

// glibc's malloc spent a fifth of the delivery path's CPU in arena lock contention across the
// runtime's threads (docs/benchmarks.md); mimalloc keeps per-thread heaps.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::GraphqlSchema = cli.command {
        print!("{}", auditrelay_api::graphql::schema_sdl());
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    if let Command::Verify(args) = cli.command {
        // Its exit code is its answer (0 complete, 1 problem, 2 bad input, 3 parked).
        std::process::exit(runtime.block_on(auditrelay_server::verify_cli::run(args)));
    }
    runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => auditrelay_server::app::serve(*args).await,
            Command::Bench(args) => auditrelay_bench::run(args, auditrelay_server::bench_launcher::launcher()).await,
            Command::Replay(args) => auditrelay_server::replay_cli::run(args).await,
            Command::AiSession(args) => auditrelay_server::ai_session_cli::run(args).await,
            Command::GraphqlSchema | Command::Verify(_) => Ok(()),
        }
    })
}
