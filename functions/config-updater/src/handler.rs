//! The function's HTTP side, on `lambda_http`: a Bitbucket webhook through the Function URL
//! (payload format 2.0; the library reads the headers and decodes a base64 body), and the
//! actions invoked directly (from the console, the CLI or the template), which the library
//! passes through as a request whose body is the event: `{"action": "sync"}`,
//! `{"action": "sync", "reload": false}` and `{"action": "restore-previous"}`. What a delivery
//! then does is [`crate::rollout`]'s.

use std::ops::Deref;

use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::http::StatusCode;
use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::{service_fn, Adapter, Body, Context, LambdaEvent, Request, RequestExt, Response, Service};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::rollout::{self, Deps, Outcome, Result_};
use crate::webhook::{self, Delivery};
use crate::Error;

/// The Lambda handler, run by `lambda_http::run`: a Function URL request gets an HTTP answer
/// whatever happens; a sync returns its outcome, or fails the invocation.
pub async fn handle(request: Request, deps: &Deps) -> Result<Response<Body>, Error> {
    if matches!(request.request_context_ref(), Some(RequestContext::PassThrough)) {
        return direct_invocation(request.body(), deps).await;
    }
    Ok(webhook_request(&request, deps).await)
}

/// One Lambda event as JSON through the adapter `lambda_http::run` wraps around [`handle`],
/// answering the JSON Lambda would return: the Function URL response, or a sync's outcome.
/// The local `invoke` and the tests use it, so they see exactly what Lambda sees.
pub async fn handle_value(event: Value, deps: &Deps) -> Result<Value, Error> {
    // `LambdaRequest` and `Adapter` are public but undocumented in lambda_http: they are what
    // its `run` is made of, and the only way to get the runtime's JSON without rewriting it.
    let request: LambdaRequest =
        serde_json::from_str(&event.to_string()).map_err(|e| Error::Invocation(format!("not a Lambda event: {e}")))?;
    let mut adapter = Adapter::from(service_fn(|request: Request| handle(request, deps)));
    let response = adapter.call(LambdaEvent::new(request, Context::default())).await?;
    Ok(serde_json::to_value(response).expect("a Lambda response serialises"))
}

/// The actions a direct invocation may ask for.
const ACTIONS: &str = r#"{"action": "sync"}, {"action": "sync", "reload": false} or {"action": "restore-previous"}"#;

/// A direct invocation: one of [`ACTIONS`].
async fn direct_invocation(event: &[u8], deps: &Deps) -> Result<Response<Body>, Error> {
    let event: Value = serde_json::from_slice(event).unwrap_or(Value::Null);
    let outcome = match event.get("action") {
        Some(action) if action == "sync" => {
            let reload = match event.get("reload") {
                None => true,
                Some(Value::Bool(reload)) => *reload,
                Some(other) => return Err(Error::Invocation(format!("\"reload\" is {other}, not true or false"))),
            };
            rollout::sync_with(deps, reload).await?
        }
        Some(action) if action == "restore-previous" => rollout::restore_previous(deps).await?,
        Some(action) => return Err(Error::Invocation(format!("unknown action {action}; expected {ACTIONS}"))),
        None => return Err(Error::Invocation(format!("expected a Function URL request or {ACTIONS}"))),
    };
    Ok(json_response(StatusCode::OK, &outcome))
}

/// A webhook delivery. Nothing happens before the signature is verified.
pub async fn webhook_request(request: &Request, deps: &Deps) -> Response<Body> {
    let body: &[u8] = request.body();
    if body.len() > webhook::MAX_BODY_BYTES {
        let message = format!("the body is {} bytes, more than the limit of {}", body.len(), webhook::MAX_BODY_BYTES);
        return error_response(StatusCode::PAYLOAD_TOO_LARGE, message);
    }
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let secret = match deps.secrets.get(&deps.settings.webhook_secret_arn).await {
        Ok(s) => s,
        Err(e) => {
            // The caller is not authenticated yet: the ARN and the SDK's error go to the log only.
            tracing::error!(error = %e, "webhook secret unavailable");
            return error_response(StatusCode::SERVICE_UNAVAILABLE, e.public_message());
        }
    };
    if let Err(e) = webhook::verify_signature(secret.as_bytes(), body, header(webhook::SIGNATURE_HEADER)) {
        tracing::warn!(error = %e, "webhook refused");
        return error_response(StatusCode::UNAUTHORIZED, e);
    }
    let Some(event_key) = header(webhook::EVENT_HEADER) else {
        return error_response(StatusCode::BAD_REQUEST, "the X-Event-Key header is missing");
    };
    let payload: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, format!("the body is not JSON: {e}")),
    };
    let settings = &deps.settings;
    let delivery = webhook::parse(event_key, &payload, &settings.repository, &settings.branch);
    tracing::info!(event_key, ?delivery, "webhook");
    let result = match delivery {
        Delivery::Ping => return json_response(StatusCode::OK, &Outcome::new(Result_::Ping, "pong")),
        Delivery::Ignored(reason) => {
            return json_response(StatusCode::ACCEPTED, &Outcome::new(Result_::Ignored, reason))
        }
        Delivery::Push { commit } => rollout::push(deps, &commit).await,
        Delivery::PullRequest { id, branch, commit } => match deps.secrets.get(&settings.token_secret_arn).await {
            Ok(token) => rollout::validate_pull_request(deps, &token, id, &branch, &commit).await,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(outcome) => json_response(StatusCode::OK, &outcome),
        // Bitbucket resends on 5xx only: ask for a redelivery when trying again can help.
        Err(e) if e.is_retryable() => {
            tracing::warn!(error = %e, kind = e.kind(), "delivery failed; Bitbucket redelivers it");
            error_response(StatusCode::SERVICE_UNAVAILABLE, e.public_message())
        }
        Err(e) => error_response(StatusCode::UNPROCESSABLE_ENTITY, e.public_message()),
    }
}

fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    let text = serde_json::to_string(body).expect("a response body serialises");
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(Body::from(text))
        .expect("a status code and a fixed header make a valid response")
}

fn error_response(status: StatusCode, message: impl std::fmt::Display) -> Response<Body> {
    json_response(status, &json!({"error": message.to_string()}))
}

/// A Function URL response as Lambda returns it ([`handle_value`]'s answer to a request), to
/// read in tests: the library's type, and its body as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HttpResponse(pub ApiGatewayV2httpResponse);

impl HttpResponse {
    /// The body as JSON (`null` when it is not JSON).
    pub fn body_json(&self) -> Value {
        let body: &[u8] = self.0.body.as_deref().unwrap_or_default();
        serde_json::from_slice(body).unwrap_or(Value::Null)
    }
}

impl Deref for HttpResponse {
    type Target = ApiGatewayV2httpResponse;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The secret the sample events in `events/` are signed with.
    const SAMPLE_SECRET: &[u8] = b"demo-webhook-secret";

    /// A sample event as `lambda_http` hands it to [`handle`].
    fn sample(bytes: &[u8]) -> Request {
        let value: Value = serde_json::from_slice(bytes).unwrap();
        let again: Value = serde_json::from_slice(&serde_json::to_vec(&value).unwrap()).unwrap();
        assert_eq!(value, again, "a serde round trip keeps the event whole");
        lambda_http::request::from_str(std::str::from_utf8(bytes).unwrap()).unwrap()
    }

    fn delivery(bytes: &[u8], repository: &str) -> Delivery {
        let request = sample(bytes);
        assert!(
            matches!(request.request_context_ref(), Some(RequestContext::ApiGatewayV2(_))),
            "a Function URL event (payload format 2.0)"
        );
        let header = |name: &str| request.headers().get(name).map(|v| v.to_str().unwrap());
        let body: &[u8] = request.body();
        webhook::verify_signature(SAMPLE_SECRET, body, header("X-Hub-Signature")).unwrap();
        let payload: Value = serde_json::from_slice(body).unwrap();
        webhook::parse(header("x-event-key").unwrap(), &payload, repository, "main")
    }

    const HEAD: &str = "6f1ed002ab5595859014ebf0951522d9a8d7a1c2";

    #[test]
    fn sample_events_parse_and_verify() {
        let cloud = delivery(include_bytes!("../../../events/config-updater-cloud-push.json"), "ops/prometheus-config");
        assert_eq!(cloud, Delivery::Push { commit: HEAD.into() });
        let dc =
            delivery(include_bytes!("../../../events/config-updater-datacenter-push.json"), "OPS/prometheus-config");
        assert_eq!(dc, Delivery::Push { commit: HEAD.into() });
        let ping =
            delivery(include_bytes!("../../../events/config-updater-datacenter-ping.json"), "OPS/prometheus-config");
        assert_eq!(ping, Delivery::Ping);
        let pr =
            delivery(include_bytes!("../../../events/config-updater-cloud-pullrequest.json"), "ops/prometheus-config");
        assert_eq!(pr, Delivery::PullRequest { id: 42, branch: "tune-alerts".into(), commit: HEAD[..12].into() });
        let sync = sample(include_bytes!("../../../events/config-updater-sync.json"));
        assert!(matches!(sync.request_context_ref(), Some(RequestContext::PassThrough)));
        let event: Value = serde_json::from_slice(sync.body()).unwrap();
        assert_eq!(event["action"], "sync");
    }

    #[test]
    fn a_base64_body_reaches_the_handler_decoded() {
        let raw = br#"{"test":true}"#;
        let sig = webhook::sign(SAMPLE_SECRET, raw);
        let event = json!({
            "version": "2.0", "rawPath": "/", "headers": {"X-Hub-Signature": sig, "x-event-key": "diagnostics:ping"},
            "requestContext": {"http": {"method": "POST", "path": "/"}},
            "body": "eyJ0ZXN0Ijp0cnVlfQ==", "isBase64Encoded": true,
        });
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert_eq!(&request.body()[..], raw);
        let signature = request.headers().get(webhook::SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
        webhook::verify_signature(SAMPLE_SECRET, request.body(), signature).unwrap();
    }

    #[test]
    fn an_event_without_an_http_method_is_a_direct_invocation() {
        // Every Function URL event has `requestContext.http.method`; anything else reaches
        // `handle` as a pass-through request, where only the actions (`sync`, `restore-previous`) are accepted.
        let event = json!({"headers": {"x-event-key": "repo:push"}, "body": "{}", "requestContext": {}});
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert!(matches!(request.request_context_ref(), Some(RequestContext::PassThrough)));
    }
}
