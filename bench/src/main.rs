//! `cargo run --release -p smartag-bench -- [--quick] [--out BENCHMARKS.md]`: runs every
//! comparison of issue 12 side by side and writes `BENCHMARKS.md`.
//!
//! The servers run in child processes (this binary re-executed with the hidden subcommand
//! `serve --side A|B --auth off|on`, which prints `listening <addr>` and serves until its stdin
//! closes); the load driver runs here.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use smartag_bench::driver::{self, GeneratedCaller, HyperCaller, Pool, RawCaller};
use smartag_bench::report::{self, ClientRow, Generator, Machine, Report, ServerRow, Settings};
use smartag_bench::stats::{Rounds, Sample};
use smartag_bench::wire::Signing;
use smartag_bench::{Auth, Side, wire};
use smartag_bench::{build_cost, cpu};

mod sdk_section;
mod service_section;
mod stores_section;

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

const CONCURRENCY: [usize; 2] = [1, 32];
/// The rate assumed before a warm-up has measured one, calls/s (sizes the first pre-signed pool).
const FIRST_ESTIMATE: f64 = 20_000.0;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Cmd::Serve { side, auth, port }) => serve(side, auth, port),
        Some(Cmd::ServeService { ref data, ref database_url, ref config }) => {
            serve_service(data, database_url.as_deref(), config)
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

/// The child: serve `side` on 127.0.0.1:`port` until stdin closes (the parent went away).
fn serve(side: Side, auth: Auth, port: u16) -> Result<()> {
    serve_until_stdin_closes(port, |listener| smartag_bench::serve(side, auth, listener))
}

/// The child: serve the real service over `data` (or PostgreSQL `database_url`) until stdin closes.
fn serve_service(data: &Path, database_url: Option<&str>, config: &Path) -> Result<()> {
    serve_until_stdin_closes(0, |listener| smartag_bench::service::serve(data, database_url, config, listener))
}

/// Binds 127.0.0.1:`port`, prints `listening <addr>`, and runs `serve` until stdin closes.
fn serve_until_stdin_closes<F: std::future::Future<Output = Result<()>>>(
    port: u16,
    serve: impl FnOnce(tokio::net::TcpListener) -> F,
) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("tokio runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.context("binding")?;
        let addr = listener.local_addr().context("local address")?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "listening {addr}").context("stdout")?;
        stdout.flush().context("stdout")?;
        std::thread::spawn(|| {
            let mut buf = [0u8; 64];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
            std::process::exit(0);
        });
        serve(listener).await
    })
}

/// A server child process, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// The server process's id, to read its CPU time.
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn start(side: Side, auth: Auth) -> Result<Server> {
        Server::spawn(&["serve", "--side", side.label(), "--auth", auth.label()])
    }

    /// This binary re-executed with `args`; waits for its `listening <addr>` line.
    fn spawn(args: &[&str]) -> Result<Server> {
        let exe = std::env::current_exe().context("locating this binary")?;
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting a server process")?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let addr = read.ok().and_then(|_| line.trim().strip_prefix("listening ").and_then(|a| a.parse().ok()));
        match addr {
            Some(addr) => Ok(Server { child, addr }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("server {args:?} did not start: {line:?}")
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

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
    let mut machine = machine();
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
    let server = if wanted(Section::Server) { runtime.block_on(server_rows(&settings))? } else { Vec::new() };
    timed("server", since);
    let since = Instant::now();
    let client = if wanted(Section::Client) { runtime.block_on(client_rows(&settings))? } else { Vec::new() };
    timed("client", since);
    let since = Instant::now();
    let sdk = if wanted(Section::Sdk) {
        let server = Server::start(Side::A, Auth::On)?;
        eprintln!("sdk: server A (auth on) on {}", server.addr);
        runtime.block_on(sdk_section::run(&workspace_root(), server.addr, &settings))?
    } else {
        Vec::new()
    };
    timed("sdk", since);
    let since = Instant::now();
    let (generator, scaling) = if wanted(Section::Generator) {
        let scratch = workspace_root().join("target/bench-generator-scaling");
        let scaling = smartag_bench::generator_scaling::measure(&workspace_root(), &scratch, settings.generator_runs)?;
        (Some(generator(settings.generator_runs)?), scaling)
    } else {
        (None, Vec::new())
    };
    timed("generator", since);
    let since = Instant::now();
    let service = if wanted(Section::Service) {
        Some(runtime.block_on(service_section::run(&settings, |args| Server::spawn(args).map(|s| (s.addr, s))))?)
    } else {
        None
    };
    timed("service", since);
    let since = Instant::now();
    let stores = if wanted(Section::Stores) {
        Some(runtime.block_on(stores_section::run(&settings, |args| Server::spawn(args).map(|s| (s.addr, s))))?)
    } else {
        None
    };
    timed("stores", since);
    drop(runtime);

    machine.load_after = loadavg();
    machine.stolen_pct = cpu::stolen_pct(machine_ticks, cpu::machine_ticks());
    let report = Report {
        machine,
        command,
        date: now_utc(),
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
    let machine = machine();
    let rows = build_cost::measure(&workspace_root())?;
    let existing = std::fs::read_to_string(&out).unwrap_or_default();
    let about = format!(
        "{} ({} logical CPUs), {}, load average before {}",
        machine.cpu, machine.nproc, machine.rustc, machine.load_before
    );
    let section = build_cost::render(&rows, &about, &now_utc(), build_cost::notes(&existing));
    std::fs::write(&out, build_cost::splice(&existing, &section))
        .with_context(|| format!("writing {}", out.display()))?;
    println!("{section}");
    Ok(())
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// Pre-signed requests per caller for `duration` at `rate` calls/s over `concurrency` callers,
/// with a margin.
fn per_caller(rate: f64, duration: f64, concurrency: usize) -> usize {
    let total = rate.max(100.0) * duration * 1.6;
    (total / concurrency as f64).ceil() as usize + 100
}

fn progress(what: &str, round: usize, rounds: usize, side: &str, s: &Sample) {
    let cpu = if s.client_cpu_us.is_nan() {
        String::new()
    } else {
        format!(
            "  cpu/call client {:.1} µs server {:.1} µs  stolen {:.1} %",
            s.client_cpu_us, s.server_cpu_us, s.stolen_pct
        )
    };
    eprintln!(
        "  {what} round {}/{rounds} {side}: {:>8.0} /s  p50 {:.3} ms  p99 {:.3} ms{cpu}{}",
        round + 1,
        s.rate,
        s.p50_ms,
        s.p99_ms,
        if s.ended_early { " (ended early)" } else { "" }
    );
}

/// The order of round `round`: A first in even rounds, B first in odd ones.
fn order(round: usize) -> [Side; 2] {
    if round.is_multiple_of(2) { [Side::A, Side::B] } else { [Side::B, Side::A] }
}

async fn server_rows(settings: &Settings) -> Result<Vec<ServerRow>> {
    let mut rows = Vec::new();
    let mut estimates: HashMap<(Side, usize), f64> = HashMap::new();
    for auth in [Auth::Off, Auth::On] {
        for concurrency in CONCURRENCY {
            // Fresh processes per row: the nonce memories start empty in every row.
            let a = Server::start(Side::A, auth)?;
            let b = Server::start(Side::B, auth)?;
            smartag_bench::check_same_answers(a.addr, b.addr, auth).await?;
            let what = format!("server auth {} c={concurrency}", auth.label());
            eprintln!("{what}: A on {}, B on {}", a.addr, b.addr);
            let mut rounds = Rounds::default();
            for round in 0..settings.rounds {
                for side in order(round) {
                    let server = if side == Side::A { &a } else { &b };
                    let estimate = estimates.entry((side, concurrency)).or_insert(FIRST_ESTIMATE);
                    let sample = server_window(server, auth, concurrency, settings, estimate).await?;
                    progress(&what, round, settings.rounds, side.label(), &sample);
                    match side {
                        Side::A => rounds.a.push(sample),
                        Side::B => rounds.b.push(sample),
                    }
                }
            }
            rows.push(ServerRow { auth, concurrency, rounds });
        }
    }
    Ok(rows)
}

/// The pools of `concurrency` callers for `duration` seconds at `rate`.
fn pools(host: &str, auth: Auth, rate: f64, duration: f64, concurrency: usize) -> Result<Vec<Pool>> {
    (0..concurrency)
        .map(|_| match auth {
            Auth::Off => wire::unsigned_headers(host).map(Pool::reuse),
            Auth::On => wire::signed_batch(host, per_caller(rate, duration, concurrency)).map(Pool::once_each),
        })
        .collect()
}

/// Warm-up then one timed window against `addr` with `concurrency` connections.
async fn server_window(
    server: &Server,
    auth: Auth,
    concurrency: usize,
    settings: &Settings,
    estimate: &mut f64,
) -> Result<Sample> {
    let (addr, server_pid) = (server.addr, server.pid());
    let host = addr.to_string();
    let path = wire::path_and_query();
    let mut callers = Vec::with_capacity(concurrency);
    for pool in pools(&host, auth, *estimate, settings.warmup_secs, concurrency)? {
        callers.push(HyperCaller::connect(addr, &path, pool).await?);
    }
    let refill = |callers: &mut [HyperCaller], rate: f64| {
        *estimate = estimate.max(rate);
        for (caller, pool) in callers.iter_mut().zip(pools(&host, auth, *estimate, settings.window_secs, concurrency)?)
        {
            caller.pool = pool;
        }
        Ok(())
    };
    let measured = driver::warm_and_measure(
        callers,
        secs(settings.warmup_secs),
        secs(settings.window_secs),
        Some(server_pid),
        refill,
    )
    .await?;
    *estimate = estimate.max(measured.rate());
    Ok(measured.sample())
}

/// The client rows: for each signature version and concurrency, the generated client (A) and raw
/// reqwest with pre-signed requests (B) against one fresh server process. Version 3 goes to side
/// B's server (the hand-written handler, which verifies version 3 only), version 1.0 to side A's
/// (the generated router, which verifies both).
async fn client_rows(settings: &Settings) -> Result<Vec<ClientRow>> {
    let mut rows = Vec::new();
    for signing in [Signing::V3, Signing::V1] {
        for concurrency in CONCURRENCY {
            let server_side = match signing {
                Signing::V3 => Side::B,
                Signing::V1 => Side::A,
            };
            let server = Server::start(server_side, Auth::On)?;
            let what = format!("client {} c={concurrency}", signing.label());
            eprintln!("{what}: server {} (auth on) on {}", server_side.label(), server.addr);
            let rounds = client_row(&server, signing, concurrency, settings, &what).await?;
            rows.push(ClientRow { signing: signing.label(), server: server_side.label(), concurrency, rounds });
        }
    }
    Ok(rows)
}

/// One client row against `server`. Each side keeps its client (and its connections) for the
/// whole row and warms up once; then the two sides take turns in short windows (A B, B A, …), so
/// that each round's pair is measured under the same outside load and a load that changes during
/// the row shows in every pair alike.
async fn client_row(
    server: &Server,
    signing: Signing,
    concurrency: usize,
    settings: &Settings,
    what: &str,
) -> Result<Rounds> {
    let host = server.addr.to_string();
    let window = secs(settings.client_window_secs());
    let client = driver::generated_client_signing(&format!("http://{host}"), signing)?;
    let mut generated: Vec<GeneratedCaller> = (0..concurrency).map(|_| GeneratedCaller::new(client.clone())).collect();
    let http = driver::raw_http_client();
    let batch = |rate: f64, secs: f64| wire::presigned_batch(&host, signing, per_caller(rate, secs, concurrency));
    let mut estimate = FIRST_ESTIMATE;
    let mut raw = (0..concurrency)
        .map(|_| Ok(RawCaller::new(http.clone(), batch(estimate, settings.warmup_secs)?)))
        .collect::<Result<Vec<_>>>()?;
    (generated, _) = driver::window(generated, secs(settings.warmup_secs)).await?;
    let warm;
    (raw, warm) = driver::window(raw, secs(settings.warmup_secs)).await?;
    estimate = estimate.max(warm.rate());
    let mut rounds = Rounds::default();
    for round in 0..settings.client_rounds() {
        for side in order(round) {
            let sample = match side {
                Side::A => {
                    let measured;
                    (generated, measured) = driver::measure(generated, window, Some(server.pid())).await?;
                    measured.sample()
                }
                Side::B => {
                    for caller in &mut raw {
                        caller.presigned = batch(estimate, settings.client_window_secs())?;
                    }
                    let measured;
                    (raw, measured) = driver::measure(raw, window, Some(server.pid())).await?;
                    estimate = estimate.max(measured.rate());
                    measured.sample()
                }
            };
            progress(what, round, settings.client_rounds(), side.label(), &sample);
            match side {
                Side::A => rounds.a.push(sample),
                Side::B => rounds.b.push(sample),
            }
        }
    }
    Ok(rounds)
}

/// Times the generator on the workspace's spec, `runs` times.
fn generator(runs: usize) -> Result<Generator> {
    let spec = workspace_root().join("spec/smartag.yaml");
    let name = "spec/smartag.yaml";
    let mut runs_ms = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let api = smartag_codegen::load_file(&spec, name).context("loading the spec")?;
        let tree = smartag_codegen::generate(&api, name).context("generating")?;
        runs_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        last = Some((api.operations.len(), tree));
    }
    let (operations, tree) = last.context("no generator run")?;
    eprintln!("generator: {runs_ms:.1?} ms");
    Ok(Generator {
        runs_ms,
        files: tree.len(),
        lines: tree.values().map(|text| text.lines().count()).sum(),
        operations,
    })
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_owned())
}

fn loadavg() -> String {
    read_trimmed("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn machine() -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let rustc = Command::new("rustc")
        .arg("--version")
        .current_dir(workspace_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    Machine {
        nproc: std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get),
        cpu,
        rustc,
        kernel: read_trimmed("/proc/sys/kernel/osrelease").unwrap_or_else(|| "unknown".to_owned()),
        load_before: loadavg(),
        load_after: String::new(),
        stolen_pct: None,
    }
}

fn now_utc() -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::now_utc().format(format).unwrap_or_else(|_| "unknown".to_owned())
}
