//! The Prometheus versions every Prometheus-backed test runs on: Debian 12's 2.42 and 3.5 LTS
//! (the template deploys 3.x), and [`prometheus_matrix!`](crate::prometheus_matrix), which turns
//! one test body into one test per version (`remote_write::pushed_samples_read_back_exactly::prometheus_3_5`).
//!
//! The version under test is a thread-local that the generated test sets on every thread of its
//! tokio runtime (workers and `spawn_blocking` threads too), so `Prometheus::start` picks it up
//! wherever a test body calls it, and test bodies stay as they were.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A Prometheus release the tests run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// Debian 12's package: `/usr/bin/prometheus` and `/usr/bin/promtool`.
    V2_42,
    /// Debian unstable's 3.5.3, unpacked by `make setup` into `$PROMSTACK_CACHE/prometheus-3.5.3/`.
    V3_5,
}

/// Where `make setup` keeps the 3.5 release (`usr/bin/` below it), relative to the cache root.
const V3_5_DIR: &str = "prometheus-3.5.3";

impl Version {
    /// Every version, oldest first: the matrix.
    pub const ALL: [Version; 2] = [Version::V2_42, Version::V3_5];

    /// `(major, minor)`.
    pub fn release(self) -> (u32, u32) {
        match self {
            Version::V2_42 => (2, 42),
            Version::V3_5 => (3, 5),
        }
    }

    /// `2.42`, `3.5`: how test names and failure messages say it.
    pub fn name(self) -> String {
        let (major, minor) = self.release();
        format!("{major}.{minor}")
    }

    /// The `prometheus` binary of this version, unchecked. `PROMSTACK_PROMETHEUS_BIN` points every
    /// version at one binary (then only the half of the matrix whose version it is can pass; run
    /// that half with a test-name filter, e.g. `prometheus_3_5`).
    pub fn binary(self) -> PathBuf {
        if let Some(bin) = std::env::var_os("PROMSTACK_PROMETHEUS_BIN") {
            return PathBuf::from(bin);
        }
        match self {
            Version::V2_42 => PathBuf::from("/usr/bin/prometheus"),
            Version::V3_5 => cache_dir().join(V3_5_DIR).join("usr/bin/prometheus"),
        }
    }

    /// The `promtool` shipped with this version (next to its `prometheus`).
    pub fn promtool(self) -> PathBuf {
        self.binary().with_file_name("promtool")
    }

    /// [`Version::binary`], after checking once per test process that it runs and reports this
    /// version; otherwise the test fails saying how to install it (a missing version is never skipped).
    pub fn checked_binary(self) -> PathBuf {
        static CHECKED: [OnceLock<Result<PathBuf, String>>; 2] = [OnceLock::new(), OnceLock::new()];
        let slot = &CHECKED[self as usize];
        match slot.get_or_init(|| self.check(&self.binary())) {
            Ok(path) => path.clone(),
            Err(message) => panic!("{message}"),
        }
    }

    /// `binary` if it runs and reports this version, else what is wrong and how to install it.
    pub fn check(self, binary: &Path) -> Result<PathBuf, String> {
        let install = match self {
            Version::V2_42 => "run `make setup` (it installs Debian's package prometheus)",
            Version::V3_5 => "run `make setup` (it unpacks Debian unstable's prometheus 3.5.3 into the cache)",
        };
        let out = Command::new(binary)
            .arg("--version")
            .output()
            .map_err(|e| format!("Prometheus {self} is not runnable at {}: {e}; {install}", binary.display()))?;
        // `prometheus, version 3.5.3+ds1 (branch: ...)`
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        let reported = text.split_whitespace().skip_while(|w| *w != "version").nth(1).unwrap_or("").to_string();
        let mut parts = reported.split(['.', '+', '-']).map(|p| p.parse::<u32>().ok());
        if (parts.next().flatten(), parts.next().flatten()) == (Some(self.release().0), Some(self.release().1)) {
            return Ok(binary.to_path_buf());
        }
        let first_line = text.lines().next().unwrap_or("(no output)");
        let hint = if std::env::var_os("PROMSTACK_PROMETHEUS_BIN").is_some() {
            format!(
                "PROMSTACK_PROMETHEUS_BIN names it; run only the prometheus_{} tests with it",
                reported_tag(&reported)
            )
        } else {
            install.to_string()
        };
        Err(format!("{} is not Prometheus {self}: it says {first_line:?}; {hint}", binary.display()))
    }

    /// The version of the test running on this thread: the one [`run`] set, or 3.5 (the version
    /// the template deploys) outside a matrix test (benches, single-thread helpers).
    pub fn current() -> Version {
        CURRENT.with(Cell::get).unwrap_or(Version::V3_5)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// `3_5` for a reported `3.5.3+ds1`.
fn reported_tag(reported: &str) -> String {
    reported.split(['.', '+', '-']).take(2).collect::<Vec<_>>().join("_")
}

/// `PROMSTACK_CACHE` (what `make setup` fills), default `~/.cache/promstack`.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("PROMSTACK_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into())).join(".cache/promstack")
    })
}

thread_local! {
    static CURRENT: Cell<Option<Version>> = const { Cell::new(None) };
}

/// The tokio runtime a matrix test asks for with its `#[tokio::test]` attribute.
#[derive(Debug, Clone, Copy)]
pub enum Runtime {
    CurrentThread,
    MultiThread,
}

/// Runs one test body on `version`: builds the tokio runtime `#[tokio::test]` would, with the
/// version set on every thread the runtime starts and on this one (where `block_on` polls).
pub fn run<F: Future>(version: Version, runtime: Runtime, test: F) -> F::Output {
    let set = move || CURRENT.with(|c| c.set(Some(version)));
    let mut builder = match runtime {
        Runtime::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        Runtime::MultiThread => tokio::runtime::Builder::new_multi_thread(),
    };
    let rt = builder.enable_all().on_thread_start(set).build().expect("tokio runtime");
    set();
    rt.block_on(test)
}

/// Wraps one `#[tokio::test]` function into a module of the same name with one test per
/// Prometheus version (`name::prometheus_2_42`, `name::prometheus_3_5`); the body is written once.
/// `only prometheus_3_5;` before the function keeps a test on the versions listed (say why above it).
///
/// ```ignore
/// harness::prometheus_matrix! {
/// #[tokio::test(flavor = "multi_thread")]
/// async fn pushed_samples_read_back_exactly() { /* Prometheus::start(..) runs the version under test */ }
/// }
/// ```
#[macro_export]
macro_rules! prometheus_matrix {
    (only $($version:ident),+ ; $($test:tt)*) => {
        $crate::prometheus_matrix!(@attrs [$($version),+] [] Unset $($test)*);
    };
    // Sort the function's attributes: `#[tokio::test]` picks the runtime, the rest stay on every test.
    (@attrs $versions:tt [$($kept:tt)*] $runtime:ident #[tokio::test(flavor = "multi_thread")] $($rest:tt)*) => {
        $crate::prometheus_matrix!(@attrs $versions [$($kept)*] MultiThread $($rest)*);
    };
    (@attrs $versions:tt [$($kept:tt)*] $runtime:ident #[tokio::test] $($rest:tt)*) => {
        $crate::prometheus_matrix!(@attrs $versions [$($kept)*] CurrentThread $($rest)*);
    };
    (@attrs $versions:tt [$($kept:tt)*] $runtime:ident #[$attr:meta] $($rest:tt)*) => {
        $crate::prometheus_matrix!(@attrs $versions [$($kept)* #[$attr]] $runtime $($rest)*);
    };
    (@attrs $versions:tt $kept:tt Unset async fn $name:ident() $body:tt) => {
        compile_error!(concat!(
            "prometheus_matrix!: ", stringify!($name),
            " needs #[tokio::test] or #[tokio::test(flavor = \"multi_thread\")]"
        ));
    };
    (@attrs [$($version:ident),+] $kept:tt $runtime:ident async fn $name:ident() $body:tt) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $( $crate::prometheus_matrix!(@test $version $runtime $kept $body); )+
        }
    };
    (@test $version:ident $runtime:ident [$($attr:tt)*] $body:tt) => {
        $($attr)*
        #[test]
        fn $version() {
            $crate::matrix::run(
                $crate::prometheus_matrix!(@version $version),
                $crate::matrix::Runtime::$runtime,
                async move $body,
            )
        }
    };
    (@version prometheus_2_42) => { $crate::matrix::Version::V2_42 };
    (@version prometheus_3_5) => { $crate::matrix::Version::V3_5 };
    (# $($test:tt)*) => {
        $crate::prometheus_matrix!(only prometheus_2_42, prometheus_3_5; # $($test)*);
    };
}
