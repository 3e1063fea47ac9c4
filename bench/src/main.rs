//! `cargo run --release -p smartag-bench -- [--quick] [--out BENCHMARKS.md]`: runs every
//! comparison of issue 12 side by side and writes `BENCHMARKS.md`.
//!
//! The servers run in child processes (this binary re-executed with the hidden subcommand
//! `serve --side A|B --auth off|on`, which prints `listening <addr>` and serves until its stdin
//! closes); the load driver runs here.
//!
//! This file is the command line and the order of a run. Each section is measured in a module of
//! its own under `sections/` (`server`, `client`, `sdk`, `generator`, `service`, `stores`); the
//! server children are `sections::server_process`; the machine and the date at the head of the
//! report come from `sections::host`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use smartag_bench::report::{self, Report, Settings};
use smartag_bench::{Auth, Side};
use smartag_bench::{build_cost, cpu};

use sections::server_process::{self, Server};
use sections::{client, generator, host, sdk, server, service, stores};

mod sections;

#[derive(Parser)]
#[command(
    name = "smartag-bench",
    about = "Side-by-side measurements (issue 12): the generated server vs a hand-written axum handler, the \
             generated client vs raw reqwest, and the generator; writes BENCHMARKS.md"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// A smoke run of about a minute (2 rounds of short windows) instead of the full run.
    #[arg(long)]
    quick: bool,
    /// Where to write the report (default: BENCHMARKS.md at the workspace root).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Rounds per row (default 5, or 2 with --quick).
    #[arg(long)]
    rounds: Option<usize>,
    /// Seconds per timed window (default 3, or 1 with --quick; at least 0.2). The client rows take
    /// twice as many rounds of half-length windows.
    #[arg(long)]
    window_secs: Option<f64>,
    /// Run only this section; the report is printed, and written only with --out.
    #[arg(long, value_enum)]
    only: Option<Section>,
    /// Measure only the build cost for users (clean release builds of an application using the
    /// generated client and of one using raw reqwest, several minutes) and rewrite only that
    /// section of the report.
    #[arg(long)]
    build_cost: bool,
}

/// A section of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Section {
    /// Generated server vs hand-written axum.
    Server,
    /// Generated client vs raw reqwest.
    Client,
    /// Generated client vs Alibaba's official Python SDKs.
    Sdk,
    /// The generator's timing, and its scaling to 30 and 300 operations.
    Generator,
    /// The service's SQLite store at 1k, 10k and 100k users per instance.
    Service,
    /// SQLite vs PostgreSQL at 1k and 100k users, and one vs three replicas on one database.
    Stores,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve one side (used by the harness itself).
    #[command(hide = true)]
    Serve {
        /// Which implementation.
        #[arg(long, value_enum)]
        side: Side,
        /// Authentication.
        #[arg(long, value_enum)]
        auth: Auth,
        /// The port on 127.0.0.1 (0: any free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
    /// Serve the real service (authentication off) over a database (used by the harness itself).
    #[command(hide = true)]
    ServeService {
        /// The SQLite database file (with --database-url: where the outbox goes).
        #[arg(long)]
        data: PathBuf,
        /// Serve over this PostgreSQL database instead of the SQLite file.
        #[arg(long)]
        database_url: Option<String>,
        /// The configuration file.
        #[arg(long)]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Cmd::Serve { side, auth, port }) => server_process::serve(side, auth, port),
        Some(Cmd::ServeService { ref data, ref database_url, ref config }) => {
            server_process::serve_service(data, database_url.as_deref(), config)
        }
        None if cli.build_cost => build_cost(&cli),
        None => run(&cli),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace's root folder (this crate's parent), where the spec and `BENCHMARKS.md` are.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// A full run (or `--only` one section): measures every section in order and writes the report,
/// keeping its build-cost section.
fn run(cli: &Cli) -> Result<()> {
    let started = Instant::now();
    let rounds = cli.rounds.unwrap_or(if cli.quick { 2 } else { 5 }).max(1);
    let window_secs = cli.window_secs.unwrap_or(if cli.quick { 1.0 } else { 3.0 }).max(0.2);
    let settings = Settings {
        rounds,
        warmup_secs: if cli.quick { 0.3 } else { 0.5 },
        window_secs,
        generator_runs: if cli.quick { 3 } else { 10 },
    };
    let out = cli.out.clone().unwrap_or_else(|| workspace_root().join("BENCHMARKS.md"));
    // Read before measuring: a damaged section stops the run now, not after 15 minutes.
    let previous = std::fs::read_to_string(&out).unwrap_or_default();
    let kept = build_cost::kept_section(&previous).with_context(|| format!("reading {}", out.display()))?;
    let mut machine = host::probe(&workspace_root());
    let machine_ticks = cpu::machine_ticks();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command =
        format!("cargo run --release -p smartag-bench --{}", args.iter().map(|a| format!(" {a}")).collect::<String>());
    eprintln!(
        "smartag-bench: {} rounds, {:.1} s warm-up + {:.1} s per window; writing {}",
        settings.rounds,
        settings.warmup_secs,
        settings.window_secs,
        out.display()
    );

    let wanted = |section: Section| cli.only.is_none_or(|only| only == section);
    let mut section_secs = Vec::new();
    let mut timed = |name: &'static str, since: Instant| section_secs.push((name, since.elapsed().as_secs_f64()));
    let runtime = tokio::runtime::Runtime::new().context("tokio runtime")?;
    let since = Instant::now();
    let server = if wanted(Section::Server) { runtime.block_on(server::run(&settings))? } else { Vec::new() };
    timed("server", since);
    let since = Instant::now();
    let client = if wanted(Section::Client) { runtime.block_on(client::run(&settings))? } else { Vec::new() };
    timed("client", since);
    let since = Instant::now();
    let sdk = if wanted(Section::Sdk) {
        let server = Server::start(Side::A, Auth::On)?;
        eprintln!("sdk: server A (auth on) on {}", server.addr);
        runtime.block_on(sdk::run(&workspace_root(), server.addr, &settings))?
    } else {
        Vec::new()
    };
    timed("sdk", since);
    let since = Instant::now();
    let (generator, scaling) = if wanted(Section::Generator) {
        let (generator, scaling) = generator::run(&workspace_root(), settings.generator_runs)?;
        (Some(generator), scaling)
    } else {
        (None, Vec::new())
    };
    timed("generator", since);
    let since = Instant::now();
    let service = if wanted(Section::Service) {
        Some(runtime.block_on(service::run(&settings, |args| Server::spawn(args).map(|s| (s.addr, s))))?)
    } else {
        None
    };
    timed("service", since);
    let since = Instant::now();
    let stores = if wanted(Section::Stores) {
        Some(runtime.block_on(stores::run(&settings, |args| Server::spawn(args).map(|s| (s.addr, s))))?)
    } else {
        None
    };
    timed("stores", since);
    drop(runtime);

    machine.load_after = host::loadavg();
    machine.stolen_pct = cpu::stolen_pct(machine_ticks, cpu::machine_ticks());
    let report = Report {
        machine,
        command,
        date: host::now_utc(),
        total_secs: started.elapsed().as_secs_f64(),
        section_secs: section_secs.into_iter().filter(|&(_, secs)| secs >= 0.5).collect(),
        settings,
        server,
        client,
        sdk,
        generator,
        scaling,
        service,
        stores,
    };
    let mut text = report::render(&report);
    // The build-cost section is measured by `--build-cost` only: keep it.
    if let Some(section) = kept {
        text = build_cost::splice(&text, &format!("{section}\n"));
    }
    println!("{text}");
    if cli.only.is_some() && cli.out.is_none() {
        eprintln!("--only: nothing written (pass --out FILE to write the partial report)");
        return Ok(());
    }
    std::fs::write(&out, &text).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote {} in {:.0} s", out.display(), report.total_secs);
    Ok(())
}

/// `--build-cost`: measures the build cost for users and rewrites that section of the report only.
fn build_cost(cli: &Cli) -> Result<()> {
    let out = cli.out.clone().unwrap_or_else(|| workspace_root().join("BENCHMARKS.md"));
    let machine = host::probe(&workspace_root());
    let rows = build_cost::measure(&workspace_root())?;
    let existing = std::fs::read_to_string(&out).unwrap_or_default();
    let about = format!(
        "{} ({} logical CPUs), {}, load average before {}",
        machine.cpu, machine.nproc, machine.rustc, machine.load_before
    );
    let section = build_cost::render(&rows, &about, &host::now_utc(), build_cost::notes(&existing));
    std::fs::write(&out, build_cost::splice(&existing, &section))
        .with_context(|| format!("writing {}", out.display()))?;
    println!("{section}");
    Ok(())
}
