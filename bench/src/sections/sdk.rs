//! The official-SDK section: the generated client against Alibaba Cloud's official Python SDKs,
//! each making sequential Describe calls to the same server process (side A, the generated
//! router, authentication on: it verifies signature version 3 and 1.0 alike).
//!
//! The Python SDKs come from the virtual environment the interop tests use (`.venv`, from
//! `tests/interop/requirements.txt`); it is created here when missing. Each SDK runs in a Python
//! process of its own (`bench/python/sdk_calls.py`) that warms up and then times its own window,
//! so interpreter start-up is not counted.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use smartag_bench::driver::{self, Caller, GeneratedCaller, HyperCaller, Pool, RawCaller};
use smartag_bench::report::{SdkRow, Settings};
use smartag_bench::stats::{Rounds, Sample, Window};
use smartag_bench::wire::{self, Signing};

/// The SDKs measured: (`--sdk` of the script, label in the report).
const SDKS: [(&str, &str); 3] = [
    ("tea", "Tea SDK `alibabacloud-smartag20180313` 2.1.2, signature v3 (its default)"),
    ("tea-v1", "Tea SDK, `signature_algorithm='v2'` (signature 1.0)"),
    ("core", "legacy `aliyun-python-sdk-core` 2.16.1, signature 1.0"),
];

/// The interop tests' virtual environment's Python, created with the pinned SDKs if missing.
fn python(root: &Path) -> Result<PathBuf> {
    let python = root.join(".venv/bin/python");
    if !python.exists() {
        eprintln!("sdk: creating .venv with the official SDKs (tests/interop/requirements.txt)");
        let status = Command::new("python3").args(["-m", "venv"]).arg(root.join(".venv")).status();
        if !status.is_ok_and(|s| s.success()) {
            bail!("cannot create the virtual environment .venv: `python3 -m venv` failed (is python3-venv installed?)");
        }
    }
    let status = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(root.join("tests/interop/requirements.txt"))
        .status()
        .context("running pip")?;
    if !status.success() {
        bail!("installing tests/interop/requirements.txt into .venv failed");
    }
    Ok(python)
}

/// One timed window of `sdk` against `addr`.
fn python_window(python: &Path, root: &Path, sdk: &str, addr: SocketAddr, settings: &Settings) -> Result<Sample> {
    let out = Command::new(python)
        .arg(root.join("bench/python/sdk_calls.py"))
        .args(["--sdk", sdk, "--endpoint", &addr.to_string()])
        .args(["--warmup", &settings.warmup_secs.to_string(), "--seconds", &settings.window_secs.to_string()])
        .output()
        .with_context(|| format!("running the {sdk} SDK"))?;
    if !out.status.success() {
        bail!("the {sdk} SDK failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    let line: serde_json::Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("the {sdk} SDK's output: {}", String::from_utf8_lossy(&out.stdout)))?;
    let number = |key: &str| line.get(key).and_then(serde_json::Value::as_f64).with_context(|| format!("no {key}"));
    Ok(Sample {
        client_cpu_us: f64::NAN,
        server_cpu_us: f64::NAN,
        stolen_pct: f64::NAN,
        rate: number("calls")? / number("seconds")?,
        p50_ms: number("p50_ms")?,
        p99_ms: number("p99_ms")?,
        ended_early: false,
    })
}

/// One timed window of the generated client, sequential calls.
async fn client_window(addr: SocketAddr, settings: &Settings) -> Result<Sample> {
    let client = driver::generated_client(&format!("http://{addr}"))?;
    let callers = vec![GeneratedCaller::new(client)];
    Ok(warm_and_measure(callers, settings, |_, _| Ok(())).await?.sample())
}

/// A warm-up and one timed window of one sequential caller, as every row of this section runs.
async fn warm_and_measure<C: Caller>(
    callers: Vec<C>,
    settings: &Settings,
    refill: impl FnOnce(&mut [C], f64) -> Result<()>,
) -> Result<Window> {
    let secs = std::time::Duration::from_secs_f64;
    driver::warm_and_measure(callers, secs(settings.warmup_secs), secs(settings.window_secs), None, refill).await
}

/// Pre-signed requests for `secs` of sequential calls: enough for 20,000 calls/s, well above
/// what one sequential caller makes here.
fn sequential_calls(secs: f64) -> usize {
    (20_000.0 * secs) as usize + 100
}

/// The label of the reference row: raw reqwest sending pre-signed requests, sequentially.
const RAW: &str = "raw reqwest, requests signed before the window (reference, not an SDK)";

/// One timed window of raw reqwest sending pre-signed (version 3) requests one at a time: what
/// any reqwest-based client pays against this server, signing aside.
async fn raw_window(addr: SocketAddr, settings: &Settings) -> Result<Sample> {
    let host = addr.to_string();
    let batch = |secs: f64| wire::presigned_batch(&host, Signing::V3, sequential_calls(secs));
    let callers = vec![RawCaller::new(driver::raw_http_client(), batch(settings.warmup_secs)?)];
    let measured = warm_and_measure(callers, settings, |callers, _| {
        for caller in callers {
            caller.presigned = batch(settings.window_secs)?;
        }
        Ok(())
    })
    .await?;
    Ok(measured.sample())
}

/// The label of the floor row: the bench's bare hyper driver sending pre-signed requests.
pub const FLOOR: &str = "bare hyper HTTP/1.1 driver, requests signed before the window (the floor of any client against \
                         this server, not an SDK)";

/// One timed window of the bare hyper driver (one keep-alive connection, pre-signed version 3
/// requests, the answer read but not decoded), one call at a time: what a sequential caller
/// costs this server and the loopback with no client work at all.
async fn floor_window(addr: SocketAddr, settings: &Settings) -> Result<Sample> {
    let host = addr.to_string();
    let batch = |secs: f64| wire::signed_batch(&host, sequential_calls(secs)).map(Pool::once_each);
    let caller = HyperCaller::connect(addr, &wire::path_and_query(), batch(settings.warmup_secs)?).await?;
    let measured = warm_and_measure(vec![caller], settings, |callers, _| {
        for caller in callers {
            caller.pool = batch(settings.window_secs)?;
        }
        Ok(())
    })
    .await?;
    Ok(measured.sample())
}

/// Measures the section against `addr` (side A with authentication on); rows in [`SDKS`] order,
/// then raw reqwest, then the bare hyper floor.
pub async fn run(root: &Path, addr: SocketAddr, settings: &Settings) -> Result<Vec<SdkRow>> {
    let python = {
        let root = root.to_path_buf();
        tokio::task::spawn_blocking(move || python(&root)).await.context("pip task")??
    };
    // One row per SDK, then the raw reqwest reference, then the floor.
    let references = 2;
    let mut rounds: Vec<Rounds> = vec![Rounds::default(); SDKS.len() + references];
    for round in 0..settings.rounds {
        // Slot 0 is the generated client, slot 1 raw reqwest, slot 2 the floor, slot k + 3 the
        // k-th SDK; the order rotates every round.
        let slots = SDKS.len() + references + 1;
        let mut client = None;
        let mut samples: Vec<Option<Sample>> = vec![None; SDKS.len() + references];
        for k in 0..slots {
            let slot = (k + round) % slots;
            let (name, index, sample) = match slot {
                0 => {
                    let sample = client_window(addr, settings).await?;
                    client = Some(sample);
                    ("generated client", None, sample)
                }
                1 => ("raw reqwest", Some(SDKS.len()), raw_window(addr, settings).await?),
                2 => ("bare hyper", Some(SDKS.len() + 1), floor_window(addr, settings).await?),
                _ => {
                    let (sdk, _) = SDKS[slot - 3];
                    let (python, root, settings) = (python.clone(), root.to_path_buf(), *settings);
                    let sample =
                        tokio::task::spawn_blocking(move || python_window(&python, &root, sdk, addr, &settings))
                            .await??;
                    (sdk, Some(slot - 3), sample)
                }
            };
            eprintln!("  sdk round {}/{}: {name} {:.0} calls/s", round + 1, settings.rounds, sample.rate);
            if let Some(index) = index {
                samples[index] = Some(sample);
            }
        }
        let client = client.context("the client's window did not run")?;
        for (rounds, sample) in rounds.iter_mut().zip(samples) {
            rounds.a.push(client);
            rounds.b.push(sample.context("an SDK's window did not run")?);
        }
    }
    let labels = SDKS.iter().map(|(_, label)| *label).chain([RAW, FLOOR]);
    let rows = labels.zip(rounds).enumerate();
    Ok(rows.map(|(index, (sdk, rounds))| SdkRow { sdk, reference: index >= SDKS.len(), rounds }).collect())
}
