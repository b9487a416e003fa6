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
