//! `account_alias` as YACE sets it (`pkg/clients/account/client.go`, `pkg/promutil/migrate.go`):
//! the first alias ListAccountAliases answers; no label without one or when IAM refuses. Asked
//! once per role and process.

use std::sync::Mutex;

use super::*;

/// IAM answering `aliases` (or refusing), counting the requests.
struct Iam {
    aliases: Mutex<Result<Vec<String>, ()>>,
    asked: Mutex<u32>,
}

impl Iam {
    fn new(aliases: Result<&[&str], ()>) -> Self {
        let aliases = aliases.map(|a| a.iter().map(|s| s.to_string()).collect());
        Self { aliases: Mutex::new(aliases), asked: Mutex::new(0) }
    }
    fn asked(&self) -> u32 {
        *self.asked.lock().unwrap()
    }
}

impl CloudWatchApi for Iam {
    type Session = ();

    fn own_session(&self, _region: &str) {}
    async fn assume_role(&self, _region: &str, _sts: &str, _role: &Role) -> Result<((), Option<String>), ApiError> {
        Ok(((), Some("222222222222".into())))
    }
    async fn caller_account(&self, _session: &()) -> Result<String, ApiError> {
        Ok("111111111111".into())
    }
    async fn list_metrics(
        &self,
        _session: &(),
        _request: ListMetrics<'_>,
        _next_token: Option<String>,
    ) -> Result<Page<MetricRef>, ApiError> {
        unreachable!("not asked by connect")
    }
    async fn get_resources(
        &self,
        _session: &(),
        _types: &[&str],
        _tag_keys: &[&str],
        _next_token: Option<String>,
    ) -> Result<Page<Resource>, ApiError> {
        unreachable!("not asked by connect")
    }
    async fn get_metric_data(
        &self,
        _session: &(),
        _call: &Call,
        _wanted: &[Wanted],
        _next_token: Option<String>,
    ) -> Result<Page<(usize, Datapoints)>, ApiError> {
        unreachable!("not asked by connect")
    }
    async fn list_account_aliases(&self, _session: &()) -> Result<Vec<String>, ApiError> {
        *self.asked.lock().unwrap() += 1;
        self.aliases.lock().unwrap().clone().map_err(|()| ApiError {
            api: "ListAccountAliases",
            subject: String::new(),
            message: "AccessDenied".into(),
        })
    }
}

async fn alias(api: &Iam, role: &Role, aliases: &AccountAliases) -> Option<String> {
    connect(api, "us-east-1", None, role, &OnceCell::new(), aliases).await.unwrap().account_alias
}

fn role(arn: &str) -> Role {
    Role { role_arn: arn.into(), ..Default::default() }
}

#[tokio::test]
async fn the_alias_is_asked_once_per_role_and_process() {
    let api = Iam::new(Ok(&["shop-prod"]));
    let aliases = AccountAliases::default();
    let own = Role::default();
    let other = role("arn:aws:iam::222222222222:role/exporter");
    assert_eq!(alias(&api, &own, &aliases).await.as_deref(), Some("shop-prod"));
    assert_eq!(alias(&api, &own, &aliases).await.as_deref(), Some("shop-prod"));
    assert_eq!(api.asked(), 1);
    assert_eq!(alias(&api, &other, &aliases).await.as_deref(), Some("shop-prod"));
    assert_eq!(api.asked(), 2, "another role is another account");
}

#[tokio::test]
async fn no_alias_is_no_label_and_kept_a_refusal_is_asked_again() {
    let api = Iam::new(Ok(&[]));
    let aliases = AccountAliases::default();
    assert_eq!(alias(&api, &Role::default(), &aliases).await, None);
    assert_eq!(alias(&api, &Role::default(), &aliases).await, None);
    assert_eq!(api.asked(), 1, "an account without an alias is an answer too");

    let refused = Iam::new(Err(()));
    let aliases = AccountAliases::default();
    let connected = connect(&refused, "us-east-1", None, &Role::default(), &OnceCell::new(), &aliases).await.unwrap();
    let (account, alias_label) = (connected.account_id.as_str(), connected.account_alias);
    assert_eq!((account, alias_label), ("111111111111", None), "the scope still runs");
    *refused.aliases.lock().unwrap() = Ok(vec!["shop-prod".into()]);
    assert_eq!(alias(&refused, &Role::default(), &aliases).await.as_deref(), Some("shop-prod"), "asked again");
    assert_eq!(refused.asked(), 2);
}
