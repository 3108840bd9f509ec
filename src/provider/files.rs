//! Reading the files the provider block names (`shared_config_files`,
//! `shared_credentials_files`): regular files only, bounded in size and in time, every
//! failure a diagnostic at the file's own attribute path.
//!
//! The AWS SDK then gets the contents, never the paths, so nothing else opens these files.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::PathBuf;
use std::time::Duration;

use super::config::ProviderConfig;
use crate::tfplugin::{AttrPath, Diagnostics};

/// Largest file accepted. AWS config and credentials files are a few KiB; files generated
/// for organisations with thousands of accounts stay well below a MiB. The bound keeps a
/// mistaken path (a log, an image, a sparse file) from filling memory.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// Longest time one file may take to open and read, e.g. on a hung network mount.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The contents of the shared files, in the order given.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SharedFiles {
    /// Contents of `shared_config_files`.
    pub config: Vec<String>,
    /// Contents of `shared_credentials_files`.
    pub credentials: Vec<String>,
}

impl std::fmt::Debug for SharedFiles {
    /// Sizes only: credentials files hold secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sizes = |v: &[String]| v.iter().map(String::len).collect::<Vec<_>>();
        f.debug_struct("SharedFiles")
            .field("config_bytes", &sizes(&self.config))
            .field("credentials_bytes", &sizes(&self.credentials))
            .finish()
    }
}

/// Why a named file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Nothing at the path.
    #[error("{path} does not exist")]
    NotFound {
        /// The path as resolved.
        path: String,
    },
    /// A directory, device, FIFO or socket.
    #[error("{path} is a {kind}, not a regular file")]
    NotRegular {
        /// The path as resolved.
        path: String,
        /// What it is instead.
        kind: &'static str,
    },
    /// Above [`MAX_FILE_BYTES`].
    #[error("{path} is larger than {limit} bytes")]
    TooLarge {
        /// The path as resolved.
        path: String,
        /// The bound.
        limit: u64,
    },
    /// Opening or reading took longer than the bound.
    #[error("reading {path} took longer than {timeout:?}")]
    TimedOut {
        /// The path as resolved.
        path: String,
        /// The bound.
        timeout: Duration,
    },
    /// Any other failure (permissions, I/O).
    #[error("{path} cannot be read: {cause}")]
    Io {
        /// The path as resolved.
        path: String,
        /// The operating system's reason.
        cause: io::Error,
    },
}

/// Reads every shared file of `cfg`, reporting each failure at its attribute
/// (`shared_config_files[0]`, …). Returns `None` when any file failed.
pub async fn read_shared_files(
    cfg: &ProviderConfig,
    diags: &mut Diagnostics,
) -> Option<SharedFiles> {
    let mut out = SharedFiles::default();
    let mut failed = false;
    for (attr, paths, into) in [
        (
            "shared_config_files",
            &cfg.shared_config_files,
            &mut out.config,
        ),
        (
            "shared_credentials_files",
            &cfg.shared_credentials_files,
            &mut out.credentials,
        ),
    ] {
        for (i, path) in paths.iter().enumerate() {
            match read_bounded(path, MAX_FILE_BYTES, READ_TIMEOUT).await {
                Ok(text) => into.push(text),
                Err(e) => {
                    failed = true;
                    diags.error_at(
                        AttrPath::root(attr).index(i),
                        format!("Unusable file in {attr}"),
                        format!(
                            "{e}. Give the path of a readable AWS {} file.",
                            kind_of(attr)
                        ),
                    );
                }
            }
        }
    }
    (!failed).then_some(out)
}

fn kind_of(attr: &str) -> &'static str {
    if attr == "shared_config_files" {
        "config"
    } else {
        "credentials"
    }
}

/// `~` and `~/…` name the home directory (`HOME`), as in the AWS CLI and SDKs.
fn expand_home(path: &str) -> PathBuf {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty());
    match (path.strip_prefix('~'), home) {
        (Some(""), Some(home)) => PathBuf::from(home),
        (Some(rest), Some(home)) if rest.starts_with('/') => {
            PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(path),
    }
}

/// Reads `path` as text: a regular file of at most `limit` bytes, within `timeout`.
///
/// # Guarantees
/// - The file is opened non-blocking, so a FIFO without a writer cannot stall the open,
///   and its type is checked on the open descriptor (no window between check and read).
/// - At most `limit + 1` bytes are read, whatever the file claims or does meanwhile.
/// - The caller waits at most `timeout`; a read stuck in the kernel is abandoned.
///
/// # Errors
/// [`FileError`] saying what is wrong with the file.
pub async fn read_bounded(path: &str, limit: u64, timeout: Duration) -> Result<String, FileError> {
    let resolved = expand_home(path);
    let shown = resolved.display().to_string();
    let blocking = {
        let shown = shown.clone();
        move || read_regular(&resolved, &shown, limit)
    };
    within(timeout, &shown, blocking).await
}

/// Runs `read` on the blocking pool and gives up after `timeout`.
async fn within<F>(timeout: Duration, shown: &str, read: F) -> Result<String, FileError>
where
    F: FnOnce() -> Result<String, FileError> + Send + 'static,
{
    match tokio::time::timeout(timeout, tokio::task::spawn_blocking(read)).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(FileError::Io {
            path: shown.to_owned(),
            cause: io::Error::other(join.to_string()),
        }),
        Err(_) => Err(FileError::TimedOut {
            path: shown.to_owned(),
            timeout,
        }),
    }
}

fn read_regular(path: &std::path::Path, shown: &str, limit: u64) -> Result<String, FileError> {
    let io_error = |cause: io::Error| match cause.kind() {
        io::ErrorKind::NotFound => FileError::NotFound {
            path: shown.to_owned(),
        },
        _ => FileError::Io {
            path: shown.to_owned(),
            cause,
        },
    };
    let file: File = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(io_error)?;
    let meta = file.metadata().map_err(io_error)?;
    let ty = meta.file_type();
    let kind = if ty.is_file() {
        None
    } else if ty.is_dir() {
        Some("directory")
    } else if ty.is_fifo() {
        Some("FIFO (named pipe)")
    } else if ty.is_char_device() {
        Some("character device")
    } else if ty.is_block_device() {
        Some("block device")
    } else if ty.is_socket() {
        Some("socket")
    } else {
        Some("special file")
    };
    if let Some(kind) = kind {
        return Err(FileError::NotRegular {
            path: shown.to_owned(),
            kind,
        });
    }
    let too_large = || FileError::TooLarge {
        path: shown.to_owned(),
        limit,
    };
    if meta.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    // As the AWS SDK does with the files it reads itself.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: u64 = 1024;
    const PATIENCE: Duration = Duration::from_secs(5);

    async fn read(path: &std::path::Path) -> Result<String, FileError> {
        read_bounded(&path.display().to_string(), LIMIT, PATIENCE).await
    }

    #[tokio::test]
    async fn a_regular_file_is_read_whole() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config");
        std::fs::write(&path, "[default]\nregion = eu-west-1\n").expect("write");
        assert_eq!(
            read(&path).await.expect("readable"),
            "[default]\nregion = eu-west-1\n"
        );
    }

    #[tokio::test]
    async fn a_symlink_to_a_regular_file_is_followed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("real");
        std::fs::write(&target, "[default]\n").expect("write");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert_eq!(read(&link).await.expect("readable"), "[default]\n");
    }

    #[tokio::test]
    async fn dev_zero_is_refused_as_a_character_device() {
        let e = read(std::path::Path::new("/dev/zero")).await.unwrap_err();
        assert!(
            matches!(
                e,
                FileError::NotRegular {
                    kind: "character device",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_fifo_without_a_writer_is_refused_at_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("run mkfifo");
        assert!(made.success());
        let e = read(&fifo).await.unwrap_err();
        assert!(matches!(e, FileError::NotRegular { .. }), "{e}");
        assert!(e.to_string().contains("FIFO"), "{e}");
    }

    #[tokio::test]
    async fn a_directory_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let e = read(dir.path()).await.unwrap_err();
        assert!(
            matches!(
                e,
                FileError::NotRegular {
                    kind: "directory",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nope");
        let e = read(&path).await.unwrap_err();
        assert!(matches!(e, FileError::NotFound { .. }), "{e}");
        assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    }

    #[tokio::test]
    async fn a_file_above_the_bound_is_refused_without_being_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sparse");
        // Sparse: claims 1 TiB, occupies nothing.
        File::create(&path)
            .and_then(|f| f.set_len(1 << 40))
            .expect("sparse file");
        let e = read(&path).await.unwrap_err();
        assert!(matches!(e, FileError::TooLarge { .. }), "{e}");
    }

    #[tokio::test]
    async fn a_file_exactly_at_the_bound_is_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("full");
        std::fs::write(&path, vec![b'#'; LIMIT as usize]).expect("write");
        assert_eq!(read(&path).await.expect("readable").len(), LIMIT as usize);
    }

    #[tokio::test]
    async fn a_read_that_does_not_finish_is_abandoned_after_the_timeout() {
        let started = std::time::Instant::now();
        let e = within(Duration::from_millis(100), "/slow", || {
            std::thread::sleep(Duration::from_secs(3));
            Ok(String::new())
        })
        .await
        .unwrap_err();
        assert!(matches!(e, FileError::TimedOut { .. }), "{e}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "did not wait for the read"
        );
    }

    #[test]
    fn a_leading_tilde_is_the_home_directory() {
        let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else {
            panic!("HOME must be set for this test");
        };
        let home = PathBuf::from(home);
        assert_eq!(expand_home("~/.aws/config"), home.join(".aws/config"));
        assert_eq!(expand_home("~"), home);
        assert_eq!(expand_home("/etc/~x"), PathBuf::from("/etc/~x"));
        assert_eq!(expand_home("~other/x"), PathBuf::from("~other/x"));
    }

    #[tokio::test]
    async fn each_bad_file_is_reported_at_its_own_index() {
        let dir = tempfile::tempdir().expect("temp dir");
        let good = dir.path().join("credentials");
        std::fs::write(&good, "[default]\n").expect("write");
        let cfg = ProviderConfig {
            shared_config_files: vec!["/dev/zero".into()],
            shared_credentials_files: vec![
                good.display().to_string(),
                dir.path().display().to_string(),
            ],
            ..ProviderConfig::default()
        };
        let mut diags = Diagnostics::new();
        assert!(read_shared_files(&cfg, &mut diags).await.is_none());
        let paths: Vec<String> = diags
            .iter()
            .filter_map(|d| d.attribute.as_ref().map(ToString::to_string))
            .collect();
        assert_eq!(
            paths,
            ["shared_config_files[0]", "shared_credentials_files[1]"]
        );
    }
}
