//! config-updater's webhook: the Function URL event (headers, base64 body), the signature check and
//! the parse of a Bitbucket delivery, as `handler::webhook_request` runs them before any I/O.
//! Input: one flag byte, then either a whole Function URL event (flag bit 1) or
//! `<X-Hub-Signature>\n<X-Event-Key>\n<body>`. Flag bit 0 signs the body with the test secret, so
//! the parse behind the signature check is reached too.
#![no_main]

use config_updater::webhook::{self, Delivery};
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"fuzz-webhook-secret";

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let sign = flags & 1 == 1;
    if flags & 2 == 2 {
        let Ok(text) = std::str::from_utf8(rest) else { return };
        if !uri_parts_are_plain(text) {
            return;
        }
        let Ok(request) = lambda_http::request::from_str(text) else { return };
        let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
        deliver(request.body(), header(webhook::SIGNATURE_HEADER), header(webhook::EVENT_HEADER), sign);
    } else {
        let mut parts = rest.splitn(3, |&b| b == b'\n');
        let signature = parts.next().and_then(|s| std::str::from_utf8(s).ok());
        let event_key = parts.next().and_then(|s| std::str::from_utf8(s).ok());
        let body = parts.next().unwrap_or_default();
        deliver(body, signature, event_key, sign);
    }
});

fn deliver(body: &[u8], signature: Option<&str>, event_key: Option<&str>, sign: bool) {
    if body.len() > webhook::MAX_BODY_BYTES {
        return;
    }
    let signed;
    let signature = if sign {
        signed = webhook::sign(SECRET, body);
        Some(signed.as_str())
    } else {
        signature
    };
    let verified = webhook::verify_signature(SECRET, body, signature);
    if sign {
        assert!(verified.is_ok(), "a body signed with the secret is refused: {verified:?}");
    }
    if verified.is_err() {
        return;
    }
    let Some(event_key) = event_key else { return };
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(body) else { return };
    match webhook::parse(event_key, &payload, "workspace/repo", "main") {
        Delivery::Push { commit } | Delivery::PullRequest { commit, .. } => {
            assert!(!commit.is_empty(), "a delivery to act on names no commit")
        }
        Delivery::Ping | Delivery::Ignored(_) => {}
    }
}

/// Whether the event's parts that lambda_http builds the request's URI from hold what a Function
/// URL's front end would put there: a DNS host name (and port) in the Host header and the domain
/// name, a scheme in `x-forwarded-proto`, a path from `/`, URI characters in the raw path and
/// query. lambda_http panics on others (`failed to build request: InvalidUriChar`, and `IdnaError`
/// or `InvalidIpv4Address` from its `Url::parse(..).unwrap()`; fuzz/artifacts-found/webhook/): its
/// bug, on fields the front end sets, so the target leaves them to it and fuzzes what reaches our
/// code.
fn uri_parts_are_plain(text: &str) -> bool {
    let Ok(event) = serde_json::from_str::<serde_json::Value>(text) else { return true };
    let uri = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#@!$&'()*+,;=%".contains(&b));
    let host = |s: &str| {
        let name = s
            .split_once(':')
            .map_or(s, |(name, port)| if port.bytes().all(|b| b.is_ascii_digit()) { name } else { "" });
        // A name whose last label is a number is an IPv4 address to a URL parser (`x.0` fails as one).
        let last = name.rsplit('.').next().unwrap_or_default();
        let numeric = last.bytes().all(|b| b.is_ascii_digit())
            || (last.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x"))
                && last[2..].bytes().all(|b| b.is_ascii_hexdigit()));
        !name.is_empty()
            && name
                .split('.')
                .all(|l| (1..=63).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
            && (!numeric || name.parse::<std::net::Ipv4Addr>().is_ok())
    };
    let scheme = |s: &str| matches!(s, "http" | "https");
    let path = |s: &str| s.is_empty() || (s.starts_with('/') && uri(s));
    let text_of = |v: &serde_json::Value, ok: &dyn Fn(&str) -> bool| v.as_str().is_none_or(ok);
    let headers = event.get("headers").and_then(|h| h.as_object()).into_iter().flatten();
    let headers_ok = headers.into_iter().all(|(name, value)| {
        if name.eq_ignore_ascii_case("host") {
            text_of(value, &host)
        } else if name.eq_ignore_ascii_case("x-forwarded-proto") {
            text_of(value, &scheme)
        } else {
            true
        }
    });
    headers_ok
        && event.pointer("/requestContext/domainName").is_none_or(|v| text_of(v, &host))
        // lambda_http writes the path straight after the host: without its leading `/` it becomes
        // part of the host name (`….on.aws` + `2.0`). `path` is the one an event without
        // `rawPath` is read with (as API Gateway's REST event); a stage goes in front of it.
        && ["/rawPath", "/path"].iter().filter_map(|p| event.pointer(p)).all(|v| text_of(v, &path))
        && ["/rawQueryString", "/requestContext/stage"]
            .iter()
            .filter_map(|p| event.pointer(p))
            .all(|v| text_of(v, &uri))
}
