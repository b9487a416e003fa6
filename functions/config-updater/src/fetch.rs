//! Fetching one branch of the config repository over git smart HTTP, shallow (depth 1), into a
//! scratch bare repository, and reading the commit's files into memory.
//!
//! `gix` runs without a `git` binary and without touching the host's git configuration
//! (isolated open). The access token goes in an `http.extraHeader` (gix's credential path
//! refuses plain http, which the tests use), and the credentials callback fails, so a bad token
//! is a clean 401 rather than a prompt. gix's transport is blocking: callers use [`fetch`] from
//! async code, which runs it on the blocking pool.
//!
//! The size limits hold while fetching, not after: gix's allocation limit stops indexing the
//! pack at an object larger than `CONFIG_MAX_BYTES` (a 1 GiB file of zeros packs to 1 MB, and
//! would be inflated whole), and each blob's size is read from its header, and counted, before
//! it is inflated.

use std::num::NonZeroU32;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use gix::bstr::ByteSlice;
use gix::error::ErrorExt;
use gix::objs::tree::EntryKind;

use crate::layout::RepoFile;
use crate::settings::Limits;
use crate::Error;

/// How the access token authenticates git over HTTPS. Bitbucket Cloud access tokens take HTTP
/// basic auth with the fixed user `x-token-auth`; Data Center HTTP access tokens take a bearer
/// header (both also take bearer on the REST API, which the build status uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitAuth {
    Bearer,
    Basic { user: String },
}

impl GitAuth {
    /// `bearer`, `basic` (user `x-token-auth`) or `basic:<user>`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "bearer" => Some(GitAuth::Bearer),
            "basic" => Some(GitAuth::Basic { user: "x-token-auth".into() }),
            other => {
                other.strip_prefix("basic:").filter(|u| !u.is_empty()).map(|u| GitAuth::Basic { user: u.to_string() })
            }
        }
    }

    /// The `Authorization` header value for `token`.
    pub fn header(&self, token: &str) -> String {
        use base64::Engine;
        match self {
            GitAuth::Bearer => format!("Bearer {token}"),
            GitAuth::Basic { user } => {
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}")))
            }
        }
    }
}

/// The smallest allocation limit given to gix, whatever `CONFIG_MAX_BYTES` says.
const MIN_ALLOC_LIMIT: u64 = 1 << 20;

/// What was fetched: the commit the branch points at and its files.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub commit: String,
    /// Committer time, seconds since the epoch.
    pub commit_time: i64,
    pub files: Vec<RepoFile>,
}

/// Where and how to fetch.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub url: String,
    pub branch: String,
    /// The `Authorization` header value ([`GitAuth::header`]); `None` for anonymous access.
    pub authorization: Option<String>,
    pub limits: Limits,
}

/// Fetches `request.branch` at depth 1 and reads its files (on the blocking pool).
pub async fn fetch(request: FetchRequest) -> Result<Fetched, Error> {
    tokio::task::spawn_blocking(move || {
        let scratch = tempfile::Builder::new()
            .prefix("config-updater-")
            .tempdir()
            .map_err(|e| Error::Fetch(format!("creating a scratch directory: {e}")))?;
        fetch_blocking(&request, scratch.path())
    })
    .await
    .map_err(|e| Error::Fetch(format!("the fetch task failed: {e}")))?
}

fn git_error<E: std::error::Error + 'static>(what: &str, url: &str) -> impl Fn(E) -> Error {
    let (what, url) = (what.to_string(), url.to_string());
    move |e| Error::Fetch(format!("{what} {url}: {}", chain(&e)))
}

/// The error and its causes on one line (gix nests the HTTP status deep down).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// The blocking fetch into `dir` (a fresh directory).
pub fn fetch_blocking(request: &FetchRequest, dir: &Path) -> Result<Fetched, Error> {
    let url = request.url.as_str();
    let branch = &request.branch;
    if branch.is_empty()
        || branch.contains("..")
        || branch.contains(|c: char| c.is_whitespace() || c == ':' || c == '*')
    {
        return Err(Error::Fetch(format!("{branch:?} is not a branch name")));
    }
    // Every allocation that pack data can ask for is capped; the floor keeps gix's own
    // bookkeeping (the pack's delta tree) working under a tiny CONFIG_MAX_BYTES.
    let alloc_limit = request.limits.max_bytes.max(MIN_ALLOC_LIMIT);
    let mut overrides = vec!["protocol.version=2".to_string(), format!("gitoxide.objects.allocLimit={alloc_limit}")];
    if let Some(authorization) = &request.authorization {
        overrides.push(format!("http.extraHeader=Authorization: {authorization}"));
    }
    let options = gix::open::Options::isolated().config_overrides(overrides);
    let repo =
        gix::ThreadSafeRepository::init_opts(dir, gix::create::Kind::Bare, gix::create::Options::default(), options)
            .map_err(|e| Error::Fetch(format!("creating the scratch repository: {}", chain(&e))))?
            .to_thread_local();

    let local_ref = format!("refs/heads/{branch}");
    let remote = repo
        .remote_at(url)
        .map_err(git_error("the repository URL is not valid:", url))?
        .with_refspecs([format!("+refs/heads/{branch}:{local_ref}").as_str()], gix::remote::Direction::Fetch)
        .map_err(git_error("the branch is not a valid refspec for", url))?
        .with_fetch_tags(gix::remote::fetch::Tags::None);
    let connection = remote
        .connect(gix::remote::Direction::Fetch)
        .map_err(git_error("connecting to", url))?
        .with_credentials(|_| {
            Err(std::io::Error::other("the server refused the access token (HTTP 401); check the token secret").raise())
        });
    let interrupt = AtomicBool::new(false);
    let outcome = connection
        .prepare_fetch(gix::progress::Discard, Default::default())
        .map_err(git_error("listing the branches of", url))?
        .with_shallow(gix::remote::fetch::Shallow::DepthAtRemote(NonZeroU32::MIN))
        .receive(gix::progress::Discard, &interrupt)
        .map_err(|e| {
            let text = chain(&e);
            // gix says so only in words ("... too large to fit in memory"), nested in its error.
            if text.contains("too large to fit in memory") {
                Error::Invalid(format!(
                    "a file in branch {branch:?} is more than {} bytes (CONFIG_MAX_BYTES): the fetch stopped before \
                     reading it, so its path is not known",
                    request.limits.max_bytes
                ))
            } else {
                Error::Fetch(format!("fetching from {url}: {text}"))
            }
        })?;
    drop(outcome);

    let reference = repo
        .try_find_reference(local_ref.as_str())
        .map_err(git_error("reading the fetched branch from", url))?
        .ok_or_else(|| Error::Fetch(format!("branch {branch:?} does not exist in {url}")))?;
    let id =
        reference.into_fully_peeled_id().map_err(|e| Error::Fetch(format!("resolving {branch}: {}", chain(&e))))?;
    let shallow = repo.is_shallow().map_err(git_error("reading the shallow state of", url))?;
    let commit = repo.find_commit(id).map_err(git_error("reading the commit from", url))?;
    if !shallow && commit.parent_ids().next().is_some() {
        return Err(Error::Fetch(format!(
            "the fetch from {url} was not shallow: the server does not support depth (git protocol v2)"
        )));
    }
    let commit_time = commit.time().map(|t| t.seconds).unwrap_or(0);
    let tree = commit.tree().map_err(git_error("reading the tree from", url))?;
    let mut recorder = gix::traverse::tree::Recorder::default();
    tree.traverse().breadthfirst(&mut recorder).map_err(git_error("walking the tree from", url))?;

    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut total: u64 = 0;
    for entry in recorder.records {
        let path = match entry.filepath.to_str() {
            Ok(p) => p.to_string(),
            Err(_) => {
                problems.push(format!("{}: path is not UTF-8", entry.filepath.to_str_lossy()));
                continue;
            }
        };
        match entry.mode.kind() {
            EntryKind::Tree => continue,
            EntryKind::Link => {
                problems.push(format!("{path}: symlinks are not allowed in the config repository"));
                continue;
            }
            EntryKind::Commit => {
                problems.push(format!("{path}: submodules are not allowed in the config repository"));
                continue;
            }
            EntryKind::Blob | EntryKind::BlobExecutable => {}
        }
        if !crate::layout::is_safe_relative_path(&path) {
            problems.push(format!("{path}: path leaves the repository root"));
            continue;
        }
        if files.len() >= request.limits.max_files {
            problems.push(format!("more than {} files (CONFIG_MAX_FILES)", request.limits.max_files));
            break;
        }
        // The size from the object's header: nothing is inflated before the limits are checked.
        let size = repo.find_header(entry.oid).map_err(git_error("reading a file's header from", url))?.size();
        if size > request.limits.max_bytes {
            problems
                .push(format!("{path}: {size} bytes, more than {} bytes (CONFIG_MAX_BYTES)", request.limits.max_bytes));
            break;
        }
        total += size;
        if total > request.limits.max_bytes {
            problems.push(format!(
                "more than {} bytes of files (CONFIG_MAX_BYTES), reached at {path}",
                request.limits.max_bytes
            ));
            break;
        }
        let blob = repo.find_object(entry.oid).map_err(git_error("reading a file from", url))?;
        files.push(RepoFile { path, contents: blob.data.clone() });
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems.join("\n")));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Fetched { commit: id.to_string(), commit_time, files })
}

#[cfg(test)]
mod tests {
    use super::GitAuth;

    #[test]
    fn git_auth_headers() {
        assert_eq!(GitAuth::parse("bearer").unwrap().header("t"), "Bearer t");
        // `x-token-auth:t`
        assert_eq!(GitAuth::parse("basic").unwrap().header("t"), "Basic eC10b2tlbi1hdXRoOnQ=");
        assert_eq!(GitAuth::parse("basic:bot").unwrap(), GitAuth::Basic { user: "bot".into() });
        assert_eq!(GitAuth::parse("digest"), None);
    }
}
