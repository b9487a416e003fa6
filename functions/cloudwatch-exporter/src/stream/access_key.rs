//! The Firehose access key, from Secrets Manager (`FIREHOSE_ACCESS_KEY_SECRET_ARN`), kept for a
//! few minutes so a warm container answers without a call yet picks up a rotation. Firehose reads
//! a key kept in Secrets Manager as `{"api_key": "..."}`; the same secret serves both sides, and a
//! plain string is taken as the key itself.

use std::sync::Mutex;
use std::time::{Duration, Instant};

const KEEP: Duration = Duration::from_secs(300);

pub struct AccessKey {
    client: aws_sdk_secretsmanager::Client,
    arn: String,
    cached: Mutex<Option<(Instant, String)>>,
}

impl AccessKey {
    pub fn new(sdk: &aws_config::SdkConfig, arn: String) -> Self {
        AccessKey { client: aws_sdk_secretsmanager::Client::new(sdk), arn, cached: Mutex::new(None) }
    }

    /// The key; the error names the secret (for the log only: the caller is not authenticated).
    pub async fn get(&self) -> Result<String, String> {
        if let Some((at, key)) = self.cached.lock().expect("access key lock").as_ref() {
            if at.elapsed() < KEEP {
                return Ok(key.clone());
            }
        }
        let fail = |message: String| format!("secret {}: {message}", self.arn);
        let out = self
            .client
            .get_secret_value()
            .secret_id(&self.arn)
            .send()
            .await
            .map_err(|e| fail(aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string()))?;
        let key = key_of(out.secret_string().unwrap_or_default()).map_err(fail)?;
        *self.cached.lock().expect("access key lock") = Some((Instant::now(), key.clone()));
        Ok(key)
    }
}

/// The key in a secret's string: `api_key` of a JSON object, or the whole string. Never empty.
pub fn key_of(secret: &str) -> Result<String, String> {
    let secret = secret.trim();
    let key = match serde_json::from_str::<serde_json::Value>(secret) {
        Ok(serde_json::Value::Object(o)) => match o.get("api_key") {
            Some(serde_json::Value::String(k)) => k.clone(),
            _ => return Err("the secret is a JSON object without a string api_key".into()),
        },
        _ => secret.to_string(),
    };
    if key.is_empty() {
        return Err("the secret's access key is empty".into());
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_api_key_of_a_json_secret_or_the_string() {
        assert_eq!(key_of(r#"{"api_key": "k1"}"#).unwrap(), "k1");
        assert_eq!(key_of("  plain-key\n").unwrap(), "plain-key");
        assert!(key_of(r#"{"key": "k1"}"#).is_err());
        assert!(key_of(r#"{"api_key": ""}"#).is_err());
        assert!(key_of("   ").is_err());
    }
}
