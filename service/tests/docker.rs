//! The `Dockerfile`, checked without a Docker daemon: multi-stage, a non-root user, the data on a
//! volume, a HEALTHCHECK that the image can run (the binary's own `healthcheck` command, as the
//! runtime image has no shell or curl) against the admin listener the CMD starts, no secrets. (The
//! whole file is linted by hadolint in `scripts/test`.) And `smartag-service healthcheck` itself.

mod operating;
mod support;

use std::io::{Read, Write};
use std::net::TcpListener;

use operating::{command, run_to_end};

/// One instruction: its keyword (upper case) and its arguments (continuation lines joined).
#[derive(Debug)]
struct Instruction {
    keyword: String,
    args: String,
}

fn parse(text: &str) -> Vec<Instruction> {
    let mut logical = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if trimmed.starts_with('#') {
            continue; // a comment inside a continued instruction
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                logical.push(std::mem::take(&mut current));
            }
        }
    }
    logical
        .into_iter()
        .map(|line| {
            let (keyword, args) = line.split_once(char::is_whitespace).unwrap_or((line.as_str(), ""));
            Instruction { keyword: keyword.to_ascii_uppercase(), args: args.trim().to_owned() }
        })
        .collect()
}

fn dockerfile() -> Vec<Instruction> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Dockerfile")).expect("Dockerfile");
    parse(&text)
}

/// The instructions of the last stage (the image that runs).
fn final_stage(all: &[Instruction]) -> &[Instruction] {
    let last_from = all.iter().rposition(|i| i.keyword == "FROM").expect("a FROM");
    &all[last_from..]
}

/// The strings of a JSON-array (exec form) argument list.
fn exec_form(args: &str) -> Vec<String> {
    serde_json::from_str(args).unwrap_or_else(|e| panic!("{args:?} is not the exec form [\"…\"]: {e}"))
}

#[test]
fn the_image_is_built_in_one_stage_and_runs_the_binary_alone_in_another() {
    let all = dockerfile();
    let froms: Vec<&Instruction> = all.iter().filter(|i| i.keyword == "FROM").collect();
    assert!(froms.len() >= 2, "not multi-stage: {froms:?}");
    assert!(froms[0].args.contains(" AS "), "the build stage is not named: {:?}", froms[0]);
    let run_stage = final_stage(&all);
    let base = &run_stage[0].args;
    assert!(base.contains("distroless/static") || base == "scratch", "the runtime image is not minimal: {base}");
    assert!(
        run_stage.iter().filter(|i| i.keyword == "COPY").all(|i| i.args.starts_with("--from=")),
        "the runtime stage copies from the build context"
    );
    assert!(!run_stage.iter().any(|i| i.keyword == "RUN"), "the runtime stage runs commands (it has no shell)");
    let build = all.iter().find(|i| i.keyword == "RUN" && i.args.contains("cargo build")).expect("cargo build");
    assert!(build.args.contains("--release") && build.args.contains("--locked"), "{build:?}");
}

#[test]
fn the_service_runs_as_a_non_root_user_with_its_data_on_a_volume() {
    let all = dockerfile();
    let run_stage = final_stage(&all);
    let user = run_stage.iter().rev().find(|i| i.keyword == "USER").expect("a USER in the runtime stage");
    let name = user.args.split(':').next().unwrap_or_default();
    assert!(!["", "0", "root"].contains(&name), "runs as root: {user:?}");

    let env: String = run_stage.iter().filter(|i| i.keyword == "ENV").map(|i| i.args.clone()).collect();
    let data = env
        .split_whitespace()
        .find_map(|pair| pair.strip_prefix("SMARTAG_DATA="))
        .expect("SMARTAG_DATA set in the image");
    let folder = std::path::Path::new(data).parent().expect("a folder").to_string_lossy().into_owned();
    let volume = run_stage.iter().find(|i| i.keyword == "VOLUME").expect("a VOLUME");
    assert!(exec_form(&volume.args).contains(&folder), "the data folder {folder} is not a volume: {volume:?}");
    // The volume's folder belongs to that user, so a new named volume is writable for it.
    let copy = run_stage.iter().find(|i| i.keyword == "COPY" && i.args.trim_end().ends_with(&folder));
    assert!(copy.is_some_and(|c| c.args.contains(&format!("--chown={}", user.args))), "{copy:?}");
}

#[test]
fn the_healthcheck_asks_the_admin_listener_that_the_command_starts() {
    let all = dockerfile();
    let run_stage = final_stage(&all);
    let health = run_stage.iter().find(|i| i.keyword == "HEALTHCHECK").expect("a HEALTHCHECK");
    let (_, command) = health.args.split_once("CMD ").expect("HEALTHCHECK … CMD [...]");
    let command = exec_form(command);
    assert!(command[0].ends_with("/smartag-service") && command[1] == "healthcheck", "{command:?}");
    let url = command.iter().skip_while(|a| *a != "--url").nth(1).expect("--url URL");
    assert!(url.ends_with("/_admin/health"), "{url}");

    let cmd = exec_form(&run_stage.iter().rev().find(|i| i.keyword == "CMD").expect("CMD").args);
    let admin = cmd.iter().skip_while(|a| *a != "--admin-listen").nth(1).expect("--admin-listen ADDR in CMD");
    assert!(url.starts_with(&format!("http://{admin}/")), "the health check asks {url}, the admin listener is {admin}");

    let entrypoint = exec_form(&run_stage.iter().find(|i| i.keyword == "ENTRYPOINT").expect("ENTRYPOINT").args);
    assert_eq!(entrypoint, [command[0].clone()], "the HEALTHCHECK runs another binary than the ENTRYPOINT");
}

#[test]
fn the_image_holds_no_secret_and_the_context_no_build_output() {
    let all = dockerfile();
    for instruction in all.iter().filter(|i| i.keyword == "ENV" || i.keyword == "ARG") {
        let upper = instruction.args.to_ascii_uppercase();
        for word in ["SECRET", "PASSWORD", "TOKEN"] {
            assert!(!upper.contains(word), "a secret in the image: {instruction:?}");
        }
    }
    let ignore =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../.dockerignore")).expect(".dockerignore");
    for entry in ["target", ".git", "*.db", ".venv"] {
        assert!(ignore.lines().any(|l| l.trim() == entry), "{entry} is not in .dockerignore");
    }
}

/// A one-shot HTTP server answering `status` to one request; returns its address.
fn answer_once(status: &'static str) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut buffer = [0u8; 1024];
            let _ = stream.read(&mut buffer);
            let _ = write!(stream, "HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    addr
}

#[test]
fn healthcheck_exits_0_on_2xx_and_1_otherwise() {
    let healthy = answer_once("200 OK");
    let mut c = command();
    c.args(["healthcheck", "--url", &format!("http://{healthy}/_admin/health")]);
    let out = run_to_end(c);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let sick = answer_once("503 Service Unavailable");
    let mut c = command();
    c.args(["healthcheck", "--url", &format!("http://{sick}/_admin/health")]);
    let out = run_to_end(c);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("answered HTTP 503"));

    // Nothing listening: a port that was just free.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let mut c = command();
    c.args(["healthcheck", "--url", &format!("http://{closed}/_admin/health")]);
    let out = run_to_end(c);
    assert_eq!(out.status.code(), Some(1));

    let mut c = command();
    c.args(["healthcheck", "--url", "https://example.invalid/"]);
    let out = run_to_end(c);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an http:// URL"));
}
