//! How requests authenticate: none, basic, bearer, or SigV4 for Amazon Managed Service for
//! Prometheus (signing name `aps`).

use std::time::SystemTime;

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use base64::Engine;

/// Credentials for the remote-write endpoint.
#[derive(Clone, Default)]
pub enum Auth {
    #[default]
    None,
    Basic {
        username: String,
        password: String,
    },
    Bearer(String),
    SigV4(SigV4),
}

impl std::fmt::Debug for Auth {
    // Never print secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
            Auth::SigV4(s) => write!(f, "SigV4({}, {})", s.region, s.service),
        }
    }
}

/// AWS Signature Version 4 signing with the function's own credentials.
#[derive(Clone)]
pub struct SigV4 {
    pub region: String,
    /// `aps` for Amazon Managed Service for Prometheus.
    pub service: String,
    pub credentials: SharedCredentialsProvider,
}

impl SigV4 {
    pub fn aps(region: impl Into<String>, credentials: SharedCredentialsProvider) -> Self {
        Self { region: region.into(), service: "aps".into(), credentials }
    }
}

impl Auth {
    /// Adds the auth headers to a request whose body is `body`.
    pub(crate) async fn apply(&self, request: &mut reqwest::Request, body: &[u8]) -> Result<(), String> {
        let value = match self {
            Auth::None => return Ok(()),
            Auth::Basic { username, password } => {
                let token = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
                format!("Basic {token}")
            }
            Auth::Bearer(token) => format!("Bearer {token}"),
            Auth::SigV4(sigv4) => return sigv4.sign(request, body, SystemTime::now()).await,
        };
        let value = reqwest::header::HeaderValue::from_str(&value).map_err(|e| format!("auth header: {e}"))?;
        request.headers_mut().insert(reqwest::header::AUTHORIZATION, value);
        Ok(())
    }
}

impl SigV4 {
    pub(crate) async fn sign(
        &self,
        request: &mut reqwest::Request,
        body: &[u8],
        time: SystemTime,
    ) -> Result<(), String> {
        let credentials =
            self.credentials.provide_credentials().await.map_err(|e| format!("SigV4: no AWS credentials: {e}"))?;
        let identity = credentials.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| format!("SigV4 parameters: {e}"))?
            .into();
        let headers: Vec<(&str, &str)> =
            request.headers().iter().filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v))).collect();
        let signable = SignableRequest::new(
            request.method().as_str(),
            request.url().as_str(),
            headers.into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| format!("SigV4: {e}"))?;
        let (instructions, _) = sign(signable, &params).map_err(|e| format!("SigV4: {e}"))?.into_parts();
        let (new_headers, _) = instructions.into_parts();
        for header in new_headers {
            let value = reqwest::header::HeaderValue::from_str(header.value())
                .map_err(|e| format!("SigV4 header {}: {e}", header.name()))?;
            request.headers_mut().insert(header.name(), value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;

    fn request() -> reqwest::Request {
        reqwest::Client::new()
            .post("https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write")
            .header("content-type", "application/x-protobuf")
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn basic_and_bearer() {
        let mut r = request();
        Auth::Basic { username: "u".into(), password: "p".into() }.apply(&mut r, b"").await.unwrap();
        assert_eq!(r.headers()["authorization"], "Basic dTpw");
        let mut r = request();
        Auth::Bearer("tok".into()).apply(&mut r, b"").await.unwrap();
        assert_eq!(r.headers()["authorization"], "Bearer tok");
        let mut r = request();
        Auth::None.apply(&mut r, b"").await.unwrap();
        assert!(r.headers().get("authorization").is_none());
        assert_eq!(format!("{:?}", Auth::Bearer("secret".into())), "Bearer(***)");
    }

    #[tokio::test]
    async fn sigv4_signs_for_aps_with_session_token() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("session".into()), None, "test");
        let signer = SigV4::aps("eu-west-1", SharedCredentialsProvider::new(creds));
        let mut r = request();
        // 2015-08-30T12:36:00Z, the date of AWS' own SigV4 test suite.
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160);
        signer.sign(&mut r, b"body", time).await.unwrap();
        let auth = r.headers()["authorization"].to_str().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/aps/aws4_request"),
            "{auth}"
        );
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token")
                || auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"),
            "{auth}"
        );
        assert_eq!(r.headers()["x-amz-date"], "20150830T123600Z");
        assert_eq!(r.headers()["x-amz-security-token"], "session");
        // The signature depends on the body.
        let mut r2 = request();
        signer.sign(&mut r2, b"other", time).await.unwrap();
        assert_ne!(r2.headers()["authorization"], r.headers()["authorization"]);
    }
}
