//! The real `smartag-service` binary on a temporary data folder and a free port, and a raw
//! HTTP/1.1 client over `std::net::TcpStream` that sends exactly the bytes a test wants (invalid
//! encodings, duplicated parameters, truncated bodies) signed with either signature version.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use alibaba_rpc_runtime::encoding::percent_encode;
use alibaba_rpc_runtime::params::Params;
use alibaba_rpc_runtime::signature::{format_timestamp, new_nonce, v1, v3};
use serde_json::Value;
use time::OffsetDateTime;

pub const KEY_ID: &str = "testid";
pub const SECRET: &str = "testsecret";
/// A hang guard only: no test asserts on how long anything takes.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// A configuration with the demo key and instances for the tests: `sag-demo` (cn-shanghai, 100
/// users), `sag-big` (cn-shanghai, a /16, 2,000 users) and `sag-small` (cn-shanghai, 8 users).
pub const TEST_CONFIG: &str = r#"
[[access_keys]]
id = "testid"
secret = "testsecret"

[[instances]]
region = "cn-shanghai"
id = "sag-demo"
cidr = "10.10.0.0/24"
max_users = 100

[[instances]]
region = "cn-shanghai"
id = "sag-big"
cidr = "10.30.0.0/16"
max_users = 2000

[[instances]]
region = "cn-shanghai"
id = "sag-small"
cidr = "10.40.0.0/24"
max_users = 8
"#;

/// One running service process; killed when dropped.
pub struct Service {
    pub child: Child,
    pub addr: SocketAddr,
    pub dir: PathBuf,
    pub db: PathBuf,
    pub log: PathBuf,
    /// The admin listener's address, when started with `--admin-listen`.
    pub admin: Option<SocketAddr>,
}

impl Service {
    /// Starts the binary with [`TEST_CONFIG`] on a free loopback port, its database in `dir`.
    pub fn start(dir: &Path) -> Service {
        Service::start_with(dir, &[])
    }

    /// As [`Service::start`], with extra environment variables (e.g. `RUST_LOG`).
    pub fn start_with(dir: &Path, env: &[(&str, &str)]) -> Service {
        Service::start_config(dir, TEST_CONFIG, env)
    }

    /// As [`Service::start_with`], with the configuration file `config`.
    pub fn start_config(dir: &Path, config_text: &str, env: &[(&str, &str)]) -> Service {
        Service::launch(dir, config_text, env, false)
    }

    /// As [`Service::start_config`], for a test that fills the disk with
    /// [`Service::limit_file_size`]: the process ignores `SIGXFSZ` (set by `sh` before `exec`, and
    /// inherited), so a write beyond its file size limit fails with `EFBIG`, as a write to a full
    /// disk fails with `ENOSPC`, instead of killing the process.
    pub fn start_disk_fillable(dir: &Path, config_text: &str) -> Service {
        Service::launch(dir, config_text, &[], true)
    }

    /// Sets the soft file size limit (`RLIMIT_FSIZE`) of the running service: with `Some(bytes)`
    /// every write at an offset at or beyond `bytes` fails, whatever the file (the disk is "full"
    /// for it); `None` lifts the limit (the disk has room again). Only for a service started with
    /// [`Service::start_disk_fillable`].
    pub fn limit_file_size(&self, bytes: Option<u64>) {
        let soft = bytes.map_or_else(|| "unlimited".to_owned(), |b| b.to_string());
        let status = Command::new("prlimit")
            .arg("--pid")
            .arg(self.child.id().to_string())
            .arg(format!("--fsize={soft}:"))
            .status()
            .expect("run prlimit (util-linux)");
        assert!(status.success(), "prlimit --fsize={soft}: failed");
    }

    fn launch(dir: &Path, config_text: &str, env: &[(&str, &str)], ignore_sigxfsz: bool) -> Service {
        Service::launch_args(dir, config_text, env, ignore_sigxfsz, &[])
    }

    /// As [`Service::start_config`], with extra command-line arguments; with `--admin-listen`, the
    /// admin address is read from the second line of standard output.
    pub fn start_args(dir: &Path, config_text: &str, env: &[(&str, &str)], args: &[&str]) -> Service {
        Service::launch_args(dir, config_text, env, false, args)
    }

    /// As [`Service::start_disk_fillable`], with extra command-line arguments.
    pub fn start_disk_fillable_args(dir: &Path, config_text: &str, args: &[&str]) -> Service {
        Service::launch_args(dir, config_text, &[], true, args)
    }

    fn launch_args(
        dir: &Path,
        config_text: &str,
        env: &[(&str, &str)],
        ignore_sigxfsz: bool,
        args: &[&str],
    ) -> Service {
        let config = dir.join("smartag.toml");
        std::fs::write(&config, config_text).expect("write the test config");
        let db = dir.join("data").join("smartag.db");
        let log = dir.join("service.log");
        let log_file = std::fs::OpenOptions::new().create(true).append(true).open(&log).expect("open the log file");
        let binary = env!("CARGO_BIN_EXE_smartag-service");
        let mut command = if ignore_sigxfsz {
            let mut sh = Command::new("sh");
            sh.arg("-c").arg("trap '' XFSZ; exec \"$0\" \"$@\"").arg(binary);
            sh
        } else {
            Command::new(binary)
        };
        command
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--config")
            .arg(&config)
            .arg("--data")
            .arg(&db)
            .args(args)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("start smartag-service");
        let stdout = child.stdout.take().expect("service stdout");
        let mut line = String::new();
        let mut stdout = BufReader::new(stdout);
        stdout.read_line(&mut line).expect("read the listening line");
        let admin = args.contains(&"--admin-listen").then(|| {
            let mut admin_line = String::new();
            stdout.read_line(&mut admin_line).expect("read the admin listening line");
            admin_line
                .split("http://")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|a| a.parse().ok())
                .unwrap_or_else(|| panic!("no admin address in {admin_line:?}"))
        });
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("no listening address in {line:?}; log: {}", std::fs::read_to_string(&log).unwrap_or_default())
            });
        Service { child, addr, dir: dir.to_owned(), db, log, admin }
    }

    /// Sends `call`, signed, and reads the answer.
    pub fn send(&self, call: &Call) -> Reply {
        exchange(self.addr, &call.to_bytes(self.addr)).expect("an HTTP answer")
    }

    /// A signed, valid Describe of `sag-demo` must answer 200 with a well-formed page.
    pub fn assert_alive(&self, after: &str) {
        let reply = self.send(&Call::v1("DescribeSmartAccessGatewayClientUsers", &describe("sag-demo")));
        assert_eq!(reply.status, 200, "after {after}: the service no longer answers a valid Describe: {}", reply.body);
        assert!(reply.json()["TotalCount"].is_i64(), "after {after}: {}", reply.body);
    }

    /// Sends SIGTERM and waits for the exit status (hang-guarded).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        signal(self.child.id(), "TERM");
        wait_with_guard(&mut self.child)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends signal `name` to process `pid` with `kill(1)`.
pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).status().expect("run kill");
    assert!(status.success(), "kill -{name} {pid} failed");
}

/// Waits for `child` at most [`HANG_GUARD`].
pub fn wait_with_guard(child: &mut Child) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            return status;
        }
        assert!(start.elapsed() < HANG_GUARD, "the process did not exit (hang guard)");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `(name, value)` percent-encoded for a query or a form body.
pub fn p(name: &str, value: &str) -> (String, String) {
    (percent_encode(name), percent_encode(value))
}

/// `(name, value)` sent exactly as written (already encoded, or deliberately malformed).
pub fn raw(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

pub fn describe(instance: &str) -> Vec<(String, String)> {
    vec![p("RegionId", "cn-shanghai"), p("SmartAGId", instance), p("PageSize", "100")]
}

pub fn create(instance: &str, name: &str) -> Vec<(String, String)> {
    vec![
        p("RegionId", "cn-shanghai"),
        p("SmartAGId", instance),
        p("UserMail", &format!("{name}@example.com")),
        p("Bandwidth", "20"),
        p("UserName", name),
        p("Password", "Passw0rd-1"),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V3,
}

/// One request: the operation's parameters in the query and/or a form body (raw-encoded pairs),
/// signed with `version` unless `signed` is false.
#[derive(Debug, Clone)]
pub struct Call {
    pub version: Version,
    pub method: &'static str,
    pub action: String,
    pub query: Vec<(String, String)>,
    /// Form body pairs; `None` means an empty body.
    pub form: Option<Vec<(String, String)>>,
    /// Exact body bytes (overrides `form`; sent with the form content type).
    pub raw_body: Option<Vec<u8>>,
    pub key_id: String,
    pub secret: String,
    pub at: OffsetDateTime,
    pub nonce: String,
    pub signed: bool,
    /// The `Version` sent (the API's by default).
    pub api_version: String,
    /// The date sent instead of `at` formatted (`Timestamp` under 1.0, `x-acs-date` under 3).
    pub date_text: Option<String>,
}

impl Call {
    pub fn new(version: Version, action: &str, query: &[(String, String)]) -> Call {
        Call {
            version,
            method: "POST",
            action: action.to_owned(),
            query: query.to_vec(),
            form: None,
            raw_body: None,
            key_id: KEY_ID.to_owned(),
            secret: SECRET.to_owned(),
            at: OffsetDateTime::now_utc(),
            nonce: new_nonce(),
            signed: true,
            api_version: "2018-03-13".to_owned(),
            date_text: None,
        }
    }

    pub fn v1(action: &str, query: &[(String, String)]) -> Call {
        Call::new(Version::V1, action, query)
    }

    pub fn v3(action: &str, query: &[(String, String)]) -> Call {
        Call::new(Version::V3, action, query)
    }

    pub fn with_form(mut self, form: &[(String, String)]) -> Call {
        self.form = Some(form.to_vec());
        self
    }

    fn body(&self) -> Vec<u8> {
        match (&self.raw_body, &self.form) {
            (Some(bytes), _) => bytes.clone(),
            (None, Some(form)) => join(form).into_bytes(),
            (None, None) => Vec::new(),
        }
    }

    /// The request line's query and the headers, signed.
    pub fn head(&self, addr: SocketAddr) -> (String, Vec<(String, String)>) {
        let body = self.body();
        let has_body = self.form.is_some() || self.raw_body.is_some();
        let host = addr.to_string();
        let date = self.date_text.clone().unwrap_or_else(|| format_timestamp(self.at));
        let mut headers: Vec<(String, String)> = Vec::new();
        if has_body {
            headers.push(("content-type".into(), "application/x-www-form-urlencoded".into()));
        }
        match self.version {
            Version::V1 => {
                let mut query = vec![
                    p("Action", &self.action),
                    p("Version", &self.api_version),
                    p("Format", "JSON"),
                    p("AccessKeyId", &self.key_id),
                    p("SignatureMethod", "HMAC-SHA1"),
                    p("SignatureType", ""),
                    p("SignatureVersion", "1.0"),
                    p("SignatureNonce", &self.nonce),
                    p("Timestamp", &date),
                ];
                query.extend(self.query.iter().cloned());
                if self.signed {
                    // What the server decodes is what is signed: the query's and the body's pairs.
                    let mut params = Params::parse_urlencoded(join(&query).as_bytes());
                    if has_body {
                        params.extend(Params::parse_urlencoded(&body));
                    }
                    let sts = v1::string_to_sign(self.method, params.iter());
                    query.push(p("Signature", &v1::sign(&self.secret, &sts)));
                }
                (join(&query), headers)
            }
            Version::V3 => {
                let query = join(&self.query);
                let params = Params::parse_urlencoded(query.as_bytes());
                let hash = v3::hash_payload(&body);
                let mut signed: Vec<(&str, &str)> = vec![
                    ("host", host.as_str()),
                    ("x-acs-action", self.action.as_str()),
                    ("x-acs-version", self.api_version.as_str()),
                    ("x-acs-date", date.as_str()),
                    ("x-acs-signature-nonce", self.nonce.as_str()),
                    ("x-acs-content-sha256", hash.as_str()),
                ];
                if has_body {
                    signed.push(("content-type", "application/x-www-form-urlencoded"));
                }
                let signature =
                    v3::sign_request(&self.key_id, &self.secret, self.method, params.iter(), &signed, &hash);
                let mut headers: Vec<(String, String)> = signed
                    .iter()
                    .filter(|(n, _)| *n != "host")
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                    .collect();
                if self.signed {
                    headers.push(("authorization".into(), signature.authorization));
                }
                (query, headers)
            }
        }
    }

    /// The whole request as bytes (`Connection: close`, `Content-Length` of the body).
    pub fn to_bytes(&self, addr: SocketAddr) -> Vec<u8> {
        let body = self.body();
        let mut out = self.head_bytes(addr, Some(body.len()));
        out.extend_from_slice(&body);
        out
    }

    /// The request line and headers, with `Content-Length: content_length` when given.
    pub fn head_bytes(&self, addr: SocketAddr, content_length: Option<usize>) -> Vec<u8> {
        let (query, headers) = self.head(addr);
        let mut out = format!("{} /?{query} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n", self.method);
        for (name, value) in headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(n) = content_length {
            out.push_str(&format!("content-length: {n}\r\n"));
        }
        out.push_str("\r\n");
        out.into_bytes()
    }
}

pub fn join(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// An answer: status, `x-acs-request-id`, content type, body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub request_id: String,
    pub content_type: String,
    pub body: String,
    /// Every header, names lowercase.
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// The first header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    pub fn code(&self) -> String {
        self.json()["Code"].as_str().unwrap_or_default().to_owned()
    }

    /// Asserts the API's JSON error envelope with `status` and `code`, its RequestId in the
    /// header and the body.
    pub fn assert_error(&self, status: u16, code: &str, case: &str) {
        assert_eq!((self.status, self.code().as_str()), (status, code), "{case}: {}", self.body);
        self.assert_envelope(case);
    }

    /// Asserts a well-formed error envelope, whatever its code.
    pub fn assert_envelope(&self, case: &str) {
        let v = self.json();
        let keys: Vec<&str> = v.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
        assert_eq!(keys, ["RequestId", "HostId", "Code", "Message", "Recommend"], "{case}: {}", self.body);
        assert!(!self.request_id.is_empty(), "{case}: no x-acs-request-id");
        assert_eq!(v["RequestId"].as_str(), Some(self.request_id.as_str()), "{case}");
        assert!(self.content_type.starts_with("application/json"), "{case}: {}", self.content_type);
    }
}

/// Writes `request` on a new connection and reads the answer to the end (the request says
/// `Connection: close`).
pub fn exchange(addr: SocketAddr, request: &[u8]) -> std::io::Result<Reply> {
    let mut stream = connect(addr)?;
    stream.write_all(request)?;
    read_reply(&mut stream)
}

pub fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(HANG_GUARD))?;
    stream.set_write_timeout(Some(HANG_GUARD))?;
    Ok(stream)
}

/// Half-closes `stream` for writing.
pub fn finish_writing(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
}

/// Reads an HTTP/1.1 answer to EOF and parses it (`Content-Length` or chunked).
pub fn read_reply(stream: &mut TcpStream) -> std::io::Result<Reply> {
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes)?;
    parse_reply(&bytes).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not an HTTP answer: {:?}", String::from_utf8_lossy(&bytes)),
        )
    })
}

fn parse_reply(bytes: &[u8]) -> Option<Reply> {
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&bytes[..split]).ok()?;
    let mut body = bytes[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut request_id = String::new();
    let mut content_type = String::new();
    let mut chunked = false;
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        headers.push((name.to_ascii_lowercase(), value.to_owned()));
        match name.to_ascii_lowercase().as_str() {
            "x-acs-request-id" => request_id = value.to_owned(),
            "content-type" => content_type = value.to_owned(),
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    if chunked {
        let mut out = Vec::new();
        let mut rest = body.as_slice();
        loop {
            let end = rest.windows(2).position(|w| w == b"\r\n")?;
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..end]).ok()?.trim(), 16).ok()?;
            rest = &rest[end + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(rest.get(..size)?);
            rest = rest.get(size + 2..)?;
        }
        body = out;
    }
    Some(Reply { status, request_id, content_type, body: String::from_utf8_lossy(&body).into_owned(), headers })
}

/// Sends `method path` with an optional JSON `body` to `addr` (the admin listener) and reads the
/// answer.
pub fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> Reply {
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    exchange(addr, request.as_bytes()).expect("an HTTP answer")
}
