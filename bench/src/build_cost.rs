//! The build cost for users (issue 12): a clean `cargo build --release` of a fresh application that
//! depends only on the generated client (plus tokio), next to the same application written against
//! raw reqwest (default features, as a user adds it), each in a fresh target directory of its own.
//!
//! `cargo xtask bench -- --build-cost` measures it and rewrites only the section of
//! `BENCHMARKS.md` between [`BEGIN`] and [`END`]; a full run keeps that section as it is.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// Where the section starts in `BENCHMARKS.md`.
pub const BEGIN: &str = "<!-- build-cost:begin (cargo xtask bench -- --build-cost) -->";
/// The section's heading.
const HEADING: &str = "## Build cost for users";
/// Where the section ends in `BENCHMARKS.md`.
pub const END: &str = "<!-- build-cost:end -->";

/// One application, built clean.
#[derive(Debug, Clone)]
pub struct AppBuild {
    /// What the application depends on.
    pub label: String,
    /// Distinct packages in its normal dependency tree (`cargo tree -e normal`), itself included.
    pub crates: usize,
    /// Units cargo compiled (`Compiling` lines: libraries, build scripts, proc macros, the binary).
    pub units: usize,
    /// Wall time of the build, seconds.
    pub wall_secs: f64,
    /// CPU time (user + system) of cargo and everything it waited for, seconds, where the platform
    /// tells (Linux); less sensitive than wall time to other load on the machine.
    pub cpu_secs: Option<f64>,
}

/// `main.rs` of the application using the generated client: builds a client and calls one operation.
const CLIENT_MAIN: &str = r#"use smartag_client::{Client, Credentials, DescribeSmartAccessGatewayClientUsersRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Client::config_builder().region("cn-shanghai").credentials(Credentials::from_env()?).build()?;
    let client = Client::new(config)?;
    let request = DescribeSmartAccessGatewayClientUsersRequest::builder()
        .region_id("cn-shanghai")
        .smart_ag_id("sag-123")
        .build();
    let response = client.describe_smart_access_gateway_client_users(&request).await?;
    println!("{}", response.total_count);
    Ok(())
}
"#;

/// `main.rs` of the application using raw reqwest: one HTTPS POST.
const RAW_MAIN: &str = r#"#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = reqwest::Client::builder().build()?;
    let body = client
        .post("https://smartag.cn-shanghai.aliyuncs.com/?Action=DescribeSmartAccessGatewayClientUsers")
        .send()
        .await?
        .text()
        .await?;
    println!("{body}");
    Ok(())
}
"#;

/// Measures both applications, one after the other, in a temporary directory (removed afterwards).
///
/// # Errors
/// When an application cannot be written or does not build.
pub fn measure(workspace: &Path) -> Result<Vec<AppBuild>> {
    let client_dep =
        format!("smartag-client = {{ path = {:?} }}", workspace.join("generated-client").display().to_string());
    let apps = [
        ("`smartag-client` (path) + tokio", "client-app", client_dep.as_str(), CLIENT_MAIN),
        ("raw `reqwest = \"0.13\"` (default features) + tokio", "raw-reqwest-app", "reqwest = \"0.13\"", RAW_MAIN),
    ];
    let dir = std::env::temp_dir().join(format!("smartag-build-cost-{}", std::process::id()));
    let result = apps
        .iter()
        .map(|(label, name, dep, main)| {
            eprintln!("build cost: {label}");
            build_app(&dir.join(name), label, name, dep, main)
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn build_app(app: &Path, label: &str, name: &str, dep: &str, main: &str) -> Result<AppBuild> {
    std::fs::create_dir_all(app.join("src")).with_context(|| format!("creating {}", app.display()))?;
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\n\
         tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n{dep}\n\n[workspace]\n"
    );
    std::fs::write(app.join("Cargo.toml"), manifest).context("writing the manifest")?;
    std::fs::write(app.join("src").join("main.rs"), main).context("writing main.rs")?;
    // Resolve (and download) first, outside the timed build.
    run_ok(cargo(app).arg("fetch"), "cargo fetch")?;
    let tree = cargo(app).args(["tree", "--prefix", "none", "-e", "normal"]).output().context("cargo tree")?;
    if !tree.status.success() {
        bail!("cargo tree failed: {}", String::from_utf8_lossy(&tree.stderr));
    }
    let mut packages: Vec<&str> = std::str::from_utf8(&tree.stdout).context("cargo tree output")?.lines().collect();
    packages.sort_unstable();
    packages.dedup();

    let target: PathBuf = app.join("target");
    let cpu_before = children_cpu_secs();
    let start = Instant::now();
    let out = cargo(app)
        .args(["build", "--release"])
        .env("CARGO_TARGET_DIR", &target)
        .stdout(Stdio::null())
        .output()
        .context("cargo build")?;
    let wall_secs = start.elapsed().as_secs_f64();
    let cpu_secs = children_cpu_secs().zip(cpu_before).map(|(after, before)| after - before);
    let log = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("{label}: cargo build --release failed:\n{log}");
    }
    let units = log.lines().filter(|l| l.trim_start().starts_with("Compiling ")).count();
    let _ = std::fs::remove_dir_all(&target);
    Ok(AppBuild { label: label.to_owned(), crates: packages.len(), units, wall_secs, cpu_secs })
}

fn cargo(dir: &Path) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(dir).env_remove("CARGO_TARGET_DIR").env_remove("RUSTFLAGS");
    command
}

fn run_ok(command: &mut Command, what: &str) -> Result<()> {
    let out = command.output().with_context(|| what.to_owned())?;
    if !out.status.success() {
        bail!("{what} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// User + system CPU seconds of the waited-for children of this process (fields 16 and 17 of
/// `/proc/self/stat`, in clock ticks of 1/100 s on Linux); `None` elsewhere.
fn children_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3, so field n is at index n - 3.
    let cutime: f64 = fields.get(13)?.parse().ok()?;
    let cstime: f64 = fields.get(14)?.parse().ok()?;
    Some((cutime + cstime) / 100.0)
}

/// The section, markers included.
pub fn render(rows: &[AppBuild], machine: &str, date: &str, notes: &str) -> String {
    let mut s = String::new();
    s.push_str(BEGIN);
    s.push('\n');
    s.push_str(HEADING);
    s.push_str("\n\n");
    s.push_str(&format!(
        "A fresh application (`cargo new`, edition 2024, tokio with `macros` + `rt-multi-thread`) that calls \
         `DescribeSmartAccessGatewayClientUsers` once, built with `cargo build --release` in a fresh target \
         directory (dependencies downloaded beforehand, not timed). Measured {date} on {machine} by \
         `cargo xtask bench -- --build-cost`, which rewrites this section only.\n\n"
    ));
    s.push_str("| application depends on | crates in tree | units compiled | clean build, wall | CPU (user+sys) |\n");
    s.push_str("|---|---:|---:|---:|---:|\n");
    for r in rows {
        let cpu = r.cpu_secs.map_or_else(|| "–".to_owned(), |c| format!("{c:.0} s"));
        s.push_str(&format!("| {} | {} | {} | {:.0} s | {cpu} |\n", r.label, r.crates, r.units, r.wall_secs));
    }
    if !notes.is_empty() {
        s.push('\n');
        s.push_str(notes.trim_end());
        s.push('\n');
    }
    s.push_str(END);
    s.push('\n');
    s
}

/// The section of `text` between the markers, markers included, if there is one.
pub fn section(text: &str) -> Option<&str> {
    let start = text.find(BEGIN)?;
    let end = text[start..].find(END)? + start + END.len();
    Some(text[start..end].trim_end())
}

/// The section a full run must keep from the report it replaces: `Ok(None)` when `text` has none,
/// an error when it has one whose markers are damaged (a heading or an end marker without the
/// begin marker), so that a 15-minute run does not silently drop the section.
pub fn kept_section(text: &str) -> Result<Option<&str>> {
    match section(text) {
        Some(found) => Ok(Some(found)),
        None if text.contains(END) || text.contains(HEADING) => bail!(
            "the report's build-cost section has lost a marker: put `{BEGIN}` on the line before \
             `{HEADING}` and `{END}` after the section's last line (or delete the section and run \
             `cargo xtask bench -- --build-cost`)"
        ),
        None => Ok(None),
    }
}

/// The notes kept between the table and [`END`] (hand-written measurements such as the test
/// command's), so that re-measuring keeps them.
pub fn notes(text: &str) -> &str {
    section(text).and_then(|s| s.find("\n\n<!-- notes -->").map(|i| &s[i + 2..s.len() - END.len()])).unwrap_or("")
}

/// `text` with its build-cost section replaced by `section` (appended when it has none).
pub fn splice(text: &str, new_section: &str) -> String {
    match (text.find(BEGIN), text.find(END)) {
        (Some(start), Some(end)) if end > start => {
            let tail = &text[end + END.len()..];
            let tail = tail.strip_prefix('\n').unwrap_or(tail);
            format!("{}{}{}", &text[..start], new_section, tail)
        }
        _ => format!("{}\n{}", text.trim_end_matches('\n').to_owned() + "\n", new_section),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> AppBuild {
        AppBuild { label: "x".into(), crates: 3, units: 4, wall_secs: 5.0, cpu_secs: Some(6.0) }
    }

    #[test]
    fn a_section_without_its_begin_marker_is_an_error_not_a_loss() {
        let section = render(&[row()], "m", "d", "");
        let text = format!("# Title\n\n{section}");
        assert_eq!(kept_section(&text).ok().flatten(), Some(section.trim_end()));
        assert!(matches!(kept_section("# Title\n"), Ok(None)));
        let damaged = text.replace(BEGIN, "");
        let err = kept_section(&damaged).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(BEGIN) && err.contains(HEADING), "{err}");
    }

    #[test]
    fn splice_replaces_only_the_section_and_keeps_notes() {
        let section = render(&[row()], "m", "d", "<!-- notes -->\nkept");
        let text = format!("# Title\n\nbody\n\n{section}");
        assert_eq!(notes(&text), "<!-- notes -->\nkept\n");
        let again = render(&[row(), row()], "m", "d2", notes(&text));
        let spliced = splice(&text, &again);
        assert!(spliced.starts_with("# Title\n\nbody\n\n"));
        assert!(spliced.contains("d2") && !spliced.contains(" d ") && spliced.contains("kept"));
        assert_eq!(spliced.matches(BEGIN).count(), 1);
        assert_eq!(splice("# T\n", &again).matches(BEGIN).count(), 1);
    }
}
