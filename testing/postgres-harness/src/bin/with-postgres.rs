//! `with-postgres -- CMD ARGS...`: starts one throw-away PostgreSQL server, runs the command with
//! `SMARTAG_TEST_POSTGRES_URL` set to it (and `SMARTAG_POSTGRES_BIN` to its binaries, `psql`
//! among them), stops the server and exits with the command's status.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--") {
        args.remove(0);
    }
    let Some((program, rest)) = args.split_first() else {
        eprintln!("usage: with-postgres -- CMD ARGS...");
        return ExitCode::from(2);
    };
    let cluster = match postgres_harness::PgCluster::start() {
        Ok(cluster) => cluster,
        Err(error) => {
            eprintln!("with-postgres: {error}");
            return ExitCode::from(1);
        }
    };
    eprintln!("with-postgres: PostgreSQL at {} ({}={})", cluster.url(), postgres_harness::URL_ENV, cluster.url());
    let status = Command::new(program)
        .args(rest)
        .env(postgres_harness::URL_ENV, cluster.url())
        .env(postgres_harness::BIN_ENV, cluster.bindir())
        .status();
    drop(cluster);
    match status {
        Ok(status) => match status.code() {
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => ExitCode::from(1),
        },
        Err(error) => {
            eprintln!("with-postgres: cannot run {program}: {error}");
            ExitCode::from(127)
        }
    }
}
