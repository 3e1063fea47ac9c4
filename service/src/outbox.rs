//! The mail outbox: account e-mails written as files into a folder.
//!
//! The real service e-mails a new client account's username and password to the user's address.
//! This service writes each such e-mail as one RFC 5322 text message (`*.eml`) into the outbox
//! folder, for a mail relay or an administrator to pick up. Because the messages hold passwords:
//!
//! - the folder is created with mode `0700`, and an existing folder that group or others can access
//!   is refused (unix);
//! - each file is created with mode `0600` (unix);
//! - each file is written atomically: a hidden temporary file (`.<uuid>.tmp`) is written, flushed
//!   to disk (`fsync`), then renamed to its final name and the folder is flushed too, so a reader
//!   never sees a partial message and a delivered message survives a crash;
//! - file names are unique and sort by time: `<UTC timestamp>-<uuid>.eml`;
//! - nothing about a message's content (not even the recipient) is logged.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;
use time::macros::format_description;
use uuid::Uuid;

/// The `From` address of account e-mails.
pub const FROM_ADDRESS: &str = "Smart Access Gateway <no-reply@smartag.invalid>";

/// One e-mail message; `Debug` shows the recipient and subject but never the body.
#[derive(Clone)]
pub struct Mail {
    to: String,
    subject: String,
    body: String,
}

impl Mail {
    /// A message from parts. `to` and `subject` must be single lines (checked by
    /// [`Outbox::deliver`]); `body` is plain UTF-8 text.
    pub fn new(to: impl Into<String>, subject: impl Into<String>, body: impl Into<String>) -> Mail {
        Mail { to: to.into(), subject: subject.into(), body: body.into() }
    }

    /// The e-mail telling `user_mail` the username and password of their new client account on
    /// instance `instance_id` in `region`.
    pub fn account_created(user_mail: &str, region: &str, instance_id: &str, user_name: &str, password: &str) -> Mail {
        let body = format!(
            "Hello,\n\
             \n\
             A Smart Access Gateway APP client account was created for you.\n\
             \n\
             \x20 Region:    {region}\n\
             \x20 Instance:  {instance_id}\n\
             \x20 Username:  {user_name}\n\
             \x20 Password:  {password}\n\
             \n\
             Log on to the SAG APP client with this username and password.\n\
             Keep this message private, or delete it once you have logged on.\n"
        );
        Mail::new(user_mail, "Your Smart Access Gateway APP client account", body)
    }

    /// The recipient address.
    pub fn to(&self) -> &str {
        &self.to
    }

    /// The subject line.
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

impl fmt::Debug for Mail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("body", &"<redacted>")
            .finish()
    }
}

/// Why the outbox could not be opened or a message could not be delivered into it.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// The outbox folder could not be created or inspected.
    #[error("cannot create outbox folder {}", path.display())]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The outbox path exists but is not a folder.
    #[error("outbox path {} is not a folder", path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// The existing outbox folder can be read or entered by group or others.
    #[error("outbox folder {} has mode {mode:04o}; it holds passwords, so run `chmod 700` on it", path.display())]
    InsecureDirectory {
        /// The folder.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A header value (recipient or subject) contains a line break or control character.
    #[error("mail {header} contains a line break or control character")]
    InvalidHeader {
        /// Which header.
        header: &'static str,
    },
    /// Writing, flushing or renaming the message file failed (the temporary file was removed).
    #[error("cannot write message {}", path.display())]
    Write {
        /// The file being written.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
}

/// A folder that receives one file per message. Cheap to clone; methods block on file I/O (call
/// them from `spawn_blocking` in async code).
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    /// Opens the outbox folder `dir`, creating it (and missing parents) with mode `0700`.
    ///
    /// An existing folder must not be accessible by group or others.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Outbox, OutboxError> {
        let dir = dir.into();
        let create_error = |source| OutboxError::CreateDir { path: dir.clone(), source };
        let existed = dir.exists();
        create_private_dir(&dir).map_err(create_error)?;
        let metadata = fs::metadata(&dir).map_err(create_error)?;
        if !metadata.is_dir() {
            return Err(OutboxError::NotADirectory { path: dir });
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = metadata.permissions().mode() & 0o7777;
            if !existed {
                // The umask may have removed owner bits; make it exactly 0700.
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(create_error)?;
            } else if mode & 0o077 != 0 {
                return Err(OutboxError::InsecureDirectory { path: dir, mode });
            }
        }
        #[cfg(not(unix))]
        let _ = existed;
        Ok(Outbox { dir })
    }

    /// The outbox folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `mail` atomically into the outbox as a new file and returns its path.
    pub fn deliver(&self, mail: &Mail) -> Result<PathBuf, OutboxError> {
        check_header("recipient", &mail.to)?;
        check_header("subject", &mail.subject)?;
        let now = OffsetDateTime::now_utc();
        let id = Uuid::new_v4();
        let stamp = now
            .format(format_description!("[year][month][day]T[hour][minute][second].[subsecond digits:9]Z"))
            .unwrap_or_else(|_| now.unix_timestamp_nanos().to_string());
        let date = now.format(&Rfc2822).unwrap_or_else(|_| now.unix_timestamp().to_string());
        let message = format!(
            "From: {FROM_ADDRESS}\r\n\
             To: {to}\r\n\
             Subject: {subject}\r\n\
             Date: {date}\r\n\
             Message-ID: <{id}@smartag.invalid>\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: 8bit\r\n\
             \r\n\
             {body}",
            to = mail.to,
            subject = mail.subject,
            body = mail.body.replace("\r\n", "\n").replace('\n', "\r\n"),
        );

        let final_path = self.dir.join(format!("{stamp}-{id}.eml"));
        let temp_path = self.dir.join(format!(".{id}.tmp"));
        let write_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| OutboxError::Write { path, source }
        };
        if let Err(error) = write_new_private_file(&temp_path, message.as_bytes()) {
            let _ = fs::remove_file(&temp_path);
            return Err(write_error(&temp_path)(error));
        }
        if let Err(error) = fs::rename(&temp_path, &final_path) {
            let _ = fs::remove_file(&temp_path);
            return Err(write_error(&final_path)(error));
        }
        sync_dir(&self.dir).map_err(write_error(&final_path))?;
        tracing::debug!(path = %final_path.display(), "message delivered to the outbox");
        Ok(final_path)
    }
}

fn check_header(header: &'static str, value: &str) -> Result<(), OutboxError> {
    if value.chars().any(char::is_control) {
        return Err(OutboxError::InvalidHeader { header });
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Creates `path` (which must not exist) readable by the owner only, writes `bytes` and flushes
/// them to disk.
fn write_new_private_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}

/// Flushes a folder's entries (the rename) to disk; a no-op where folders cannot be opened.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}
