//! Amazon Data Firehose's HTTP endpoint delivery contract, protocol version 1.0: a POST whose
//! JSON body (gzip-compressed when the stream is configured so, `Content-Encoding: gzip`) holds
//! `requestId`, `timestamp` and `records[].data` in base64; the headers
//! `X-Amz-Firehose-Request-Id` (the same on every attempt of one request),
//! `X-Amz-Firehose-Access-Key`, `X-Amz-Firehose-Common-Attributes` and
//! `X-Amz-Firehose-Protocol-Version`. The answer is a JSON `{requestId, timestamp}` with 200, or a
//! non-2xx with `errorMessage` too, which makes Firehose retry (and, past its retry duration,
//! back the records up to S3).

use std::io::Read;

use base64::Engine;
use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

pub const REQUEST_ID_HEADER: &str = "x-amz-firehose-request-id";
pub const ACCESS_KEY_HEADER: &str = "x-amz-firehose-access-key";
pub const COMMON_ATTRIBUTES_HEADER: &str = "x-amz-firehose-common-attributes";
pub const PROTOCOL_VERSION_HEADER: &str = "x-amz-firehose-protocol-version";
pub const PROTOCOL_VERSION: &str = "1.0";

/// The most a gzip body may inflate to: Firehose buffers at most 64 MiB per request, so anything
/// larger is not a Firehose request (and must not exhaust the function's memory).
pub const MAX_BODY_BYTES: u64 = 64 << 20;

/// The body of a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub request_id: String,
    /// When Firehose sent it, in epoch milliseconds.
    pub timestamp: i64,
    pub records: Vec<Record>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The record's bytes, base64.
    pub data: String,
}

impl Record {
    pub fn new(bytes: &[u8]) -> Self {
        Record { data: base64::engine::general_purpose::STANDARD.encode(bytes) }
    }

    pub fn bytes(&self) -> Result<Vec<u8>, String> {
        base64::engine::general_purpose::STANDARD.decode(&self.data).map_err(|e| format!("data is not base64: {e}"))
    }
}

/// The delivery in a request body, inflated first when `content_encoding` is gzip.
pub fn parse(body: &[u8], content_encoding: Option<&str>) -> Result<Delivery, String> {
    let inflated;
    let json = match content_encoding.map(str::trim) {
        None | Some("") | Some("identity") => body,
        Some(e) if e.eq_ignore_ascii_case("gzip") => {
            inflated = gunzip(body)?;
            &inflated[..]
        }
        Some(other) => return Err(format!("Content-Encoding {other:?} is not gzip")),
    };
    serde_json::from_slice(json).map_err(|e| format!("the body is not a Firehose delivery: {e}"))
}

fn gunzip(body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(body.len() * 8);
    let mut decoder = flate2::read::GzDecoder::new(body).take(MAX_BODY_BYTES + 1);
    decoder.read_to_end(&mut out).map_err(|e| format!("the gzip body does not inflate: {e}"))?;
    if out.len() as u64 > MAX_BODY_BYTES {
        return Err(format!("the gzip body inflates past {MAX_BODY_BYTES} bytes"));
    }
    Ok(out)
}

/// Gzip-compresses a body as Firehose does with `Content-Encoding: gzip` (tests and the bench).
pub fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(body).expect("a Vec grows");
    e.finish().expect("a Vec grows")
}

/// Whether the request's access key is the expected one, compared in constant time (only the
/// lengths' equality shows in the timing).
pub fn access_key_matches(given: Option<&str>, expected: &str) -> bool {
    given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(expected.as_bytes())))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer<'a> {
    request_id: &'a str,
    timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
}

/// The answer Firehose expects: `{requestId, timestamp}`, with `errorMessage` when `status` is
/// not a success.
pub fn answer(status: StatusCode, request_id: &str, now_ms: i64, error: Option<&str>) -> Response<Body> {
    let body = Answer { request_id, timestamp: now_ms, error_message: error.filter(|_| !status.is_success()) };
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_string(&body).expect("strings and a number serialise")))
        .expect("a status code and a fixed header make a valid response")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request body of the AWS docs' "HTTP endpoint delivery request and response
    /// specifications" page (shape and field names; the data is two base64 records).
    const DOCS_BODY: &str = r#"{
        "requestId": "ed4acda5-034f-9f42-bba1-f29aea6d7d8f",
        "timestamp": 1578090901599,
        "records": [{"data": "aGVsbG8="}, {"data": "aGVsbG8gd29ybGQ="}]
    }"#;

    #[test]
    fn a_delivery_parses_plain_and_gzipped() {
        for (body, encoding) in [(DOCS_BODY.as_bytes().to_vec(), None), (gzip(DOCS_BODY.as_bytes()), Some("gzip"))] {
            let d = parse(&body, encoding).unwrap();
            assert_eq!(d.request_id, "ed4acda5-034f-9f42-bba1-f29aea6d7d8f");
            assert_eq!(d.timestamp, 1578090901599);
            let records: Vec<Vec<u8>> = d.records.iter().map(|r| r.bytes().unwrap()).collect();
            assert_eq!(records, [b"hello".to_vec(), b"hello world".to_vec()]);
        }
    }

    #[test]
    fn what_is_not_a_delivery_is_refused_with_the_reason() {
        assert!(parse(b"{}", None).unwrap_err().starts_with("the body is not a Firehose delivery"));
        assert!(parse(DOCS_BODY.as_bytes(), Some("gzip")).unwrap_err().starts_with("the gzip body does not inflate"));
        assert_eq!(parse(b"{}", Some("br")).unwrap_err(), "Content-Encoding \"br\" is not gzip");
        assert!(Record { data: "not base64!".into() }.bytes().is_err());
        // A gzip bomb stops at the limit.
        let bomb = gzip(&vec![b' '; MAX_BODY_BYTES as usize + 10]);
        assert!(parse(&bomb, Some("gzip")).unwrap_err().contains("inflates past"));
    }

    #[test]
    fn the_access_key_must_match_exactly() {
        assert!(access_key_matches(Some("s3cret"), "s3cret"));
        assert!(!access_key_matches(Some("s3cret "), "s3cret"));
        assert!(!access_key_matches(Some("S3cret"), "s3cret"));
        assert!(!access_key_matches(Some(""), "s3cret"));
        assert!(!access_key_matches(None, "s3cret"));
    }

    #[test]
    fn answers_carry_the_request_id_and_an_error_only_on_failure() {
        let body = |r: Response<Body>| -> serde_json::Value { serde_json::from_slice(r.body()).unwrap() };
        let ok = answer(StatusCode::OK, "id-1", 1_700_000_000_000, Some("ignored"));
        assert_eq!(ok.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(body(ok), serde_json::json!({"requestId": "id-1", "timestamp": 1_700_000_000_000i64}));
        let refused = answer(StatusCode::UNAUTHORIZED, "id-2", 5, Some("bad access key"));
        assert_eq!(refused.status(), 401);
        assert_eq!(
            body(refused),
            serde_json::json!({"requestId": "id-2", "timestamp": 5, "errorMessage": "bad access key"})
        );
    }
}
