//! Secrets from Secrets Manager (the webhook's HMAC secret, the Bitbucket access token), read by
//! ARN and kept for a few minutes so warm invocations skip the call but a rotation is picked up.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::Error;

const KEEP: Duration = Duration::from_secs(300);

pub struct Secrets {
    client: aws_sdk_secretsmanager::Client,
    cache: Mutex<HashMap<String, (Instant, String)>>,
}

impl Secrets {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Secrets { client: aws_sdk_secretsmanager::Client::new(config), cache: Mutex::new(HashMap::new()) }
    }

    /// The secret's string value, trimmed. An empty secret is an error, never an empty key.
    pub async fn get(&self, arn: &str) -> Result<String, Error> {
        if let Some((at, value)) = self.cache.lock().unwrap().get(arn) {
            if at.elapsed() < KEEP {
                return Ok(value.clone());
            }
        }
        let fail = |message: String| Error::Secret { arn: arn.to_string(), message };
        let out = self
            .client
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| fail(promstack::aws::describe(&e)))?;
        let value = out.secret_string().map(str::trim).unwrap_or_default().to_string();
        if value.is_empty() {
            return Err(fail("the secret has no string value".into()));
        }
        self.cache.lock().unwrap().insert(arn.to_string(), (Instant::now(), value.clone()));
        Ok(value)
    }
}
