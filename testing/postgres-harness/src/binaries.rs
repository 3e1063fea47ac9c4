//! Finding the PostgreSQL server binaries.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::HarnessError;

/// The variable naming the folder of the server binaries (`initdb`, `pg_ctl`, `psql`).
pub const BIN_ENV: &str = "SMARTAG_POSTGRES_BIN";

/// The folder holding `initdb` and `pg_ctl`: [`BIN_ENV`] if set, else `pg_config --bindir`, else
/// the highest version's `/usr/lib/postgresql/*/bin` (where Debian puts them, off the `PATH`).
///
/// # Errors
/// [`HarnessError::NoBinaries`] naming where it looked and what to install.
pub fn find_bindir() -> Result<PathBuf, HarnessError> {
    let mut looked_in = Vec::new();
    if let Some(dir) = std::env::var_os(BIN_ENV).filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        if has_server(&dir) {
            return Ok(dir);
        }
        looked_in.push(format!("{} ({BIN_ENV})", dir.display()));
    }
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if has_server(&dir) {
            return Ok(dir);
        }
        looked_in.push(format!("{} (pg_config --bindir)", dir.display()));
    } else {
        looked_in.push("pg_config (not found)".to_owned());
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_server(dir))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Ok(dir);
    }
    looked_in.push("/usr/lib/postgresql/*/bin".to_owned());
    Err(HarnessError::NoBinaries { looked_in: looked_in.join(", ") })
}

fn has_server(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file()
}
