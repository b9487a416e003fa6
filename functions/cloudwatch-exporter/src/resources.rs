//! The resources of a discovery job in one region and account, found as YACE's tagging client
//! finds them (its `pkg/clients/tagging/client.go` and `filters.go`): tag:GetResources for the
//! namespace's resource types, asked with the search tags' keys as `TagFilters` and their values
//! matched afterwards; then the namespace's own lookup, which adds resources the tagging API does
//! not know (Auto Scaling groups, spot fleets, ...) or rewrites the ARNs it returns so that they
//! match the metrics' dimensions (API Gateway, DMS). A namespace that should have resources and is
//! left with none gets [`Lookup::ExpectedButNone`]: its job exports nothing there, as in YACE.

use std::future::Future;

use crate::aws::{self, ApiError, CloudWatchApi, Page};
use crate::discovery::Resource;
use crate::services::Service;
use crate::yace::SearchTag;

/// A resource known by an id and its tags: an Auto Scaling group or a workspace by ARN, a spot
/// fleet by its request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    pub id: String,
    pub tags: Vec<(String, String)>,
}

/// A v1 REST API of API Gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestApi {
    pub id: String,
    pub name: String,
}

/// A DMS replication instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationInstance {
    pub arn: String,
    pub identifier: String,
}

/// A DMS replication task and the instance it runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationTask {
    pub arn: String,
    pub instance_arn: String,
}

/// A Storage Gateway gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    pub id: String,
    pub name: String,
    pub arn: String,
}

/// An attachment of a transit gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitGatewayAttachment {
    pub transit_gateway_id: String,
    pub attachment_id: String,
    pub tags: Vec<(String, String)>,
}

/// A Shield protection and the resource it protects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protection {
    pub resource_arn: String,
    pub protection_arn: String,
}

/// What the lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The resources (none, for a namespace that has no resources to find).
    Resources(Vec<Resource>),
    /// The namespace has resources (resource types, or a lookup of its own) and none is left
    /// after the search tags and the namespace's filter: YACE's `ErrExpectedToFindResources`.
    ExpectedButNone,
}

/// The namespaces with a lookup of their own (YACE's `ServiceFilters`).
pub const NAMESPACES_WITH_OWN_LOOKUP: &[&str] = &[
    "AWS/ApiGateway",
    "AWS/AutoScaling",
    "AWS/DMS",
    "AWS/EC2Spot",
    "AWS/Prometheus",
    "AWS/StorageGateway",
    "AWS/TransitGateway",
    "AWS/DDoSProtection",
];

/// Whether a job of this namespace should find resources: it has resource types for the tagging
/// API, or a lookup that adds resources (a filter alone, API Gateway's or DMS's, adds none).
pub fn expects_resources(service: &Service) -> bool {
    !service.resource_filters.is_empty()
        || matches!(
            service.namespace,
            "AWS/AutoScaling"
                | "AWS/EC2Spot"
                | "AWS/Prometheus"
                | "AWS/StorageGateway"
                | "AWS/TransitGateway"
                | "AWS/DDoSProtection"
        )
}

/// YACE's `FilterThroughTags`: every search tag is matched by a tag of the same key (unanchored
/// regex on the value), and no tag of a searched key has a value that does not match.
pub fn through_tags(tags: &[(String, String)], search_tags: &[SearchTag]) -> bool {
    if search_tags.is_empty() {
        return true;
    }
    let mut matched = 0;
    for (key, value) in tags {
        for st in search_tags.iter().filter(|st| st.key == *key) {
            if !st.value.is_match(value) {
                return false;
            }
            matched += 1;
        }
    }
    matched == search_tags.len()
}

/// A discovery job's resources in the session's region (`region`, which Shield's lookup needs).
pub async fn find<A: CloudWatchApi>(
    api: &A,
    session: &A::Session,
    region: &str,
    service: &Service,
    search_tags: &[SearchTag],
) -> Result<Lookup, ApiError> {
    let mut resources = Vec::new();
    if !service.resource_filters.is_empty() {
        let keys: Vec<&str> = search_tags.iter().map(|st| st.key.as_str()).collect();
        let all = aws::get_all_resources(api, session, service.resource_filters, &keys).await?;
        resources.extend(all.into_iter().filter(|r| through_tags(&r.tags, search_tags)));
    }
    match service.namespace {
        "AWS/ApiGateway" => resources = api_gateway(api, session, resources).await?,
        "AWS/DMS" => resources = dms(api, session, resources).await?,
        "AWS/AutoScaling" => {
            let groups = pages(10, |t| api.describe_auto_scaling_groups(session, t)).await?;
            resources.extend(tagged(groups, search_tags));
        }
        "AWS/EC2Spot" => {
            let fleets = pages(100, |t| api.describe_spot_fleet_requests(session, t)).await?;
            resources.extend(tagged(fleets, search_tags));
        }
        "AWS/Prometheus" => {
            let workspaces = pages(100, |t| api.list_workspaces(session, t)).await?;
            resources.extend(tagged(workspaces, search_tags));
        }
        "AWS/StorageGateway" => resources.extend(storage_gateways(api, session, search_tags).await?),
        "AWS/TransitGateway" => {
            let attachments = pages(100, |t| api.describe_transit_gateway_attachments(session, t)).await?;
            resources.extend(
                attachments
                    .into_iter()
                    .map(|a| Resource { arn: format!("{}/{}", a.transit_gateway_id, a.attachment_id), tags: a.tags })
                    .filter(|r| through_tags(&r.tags, search_tags)),
            );
        }
        "AWS/DDoSProtection" => resources.extend(protected_resources(api, session, region).await?),
        _ => {}
    }
    if resources.is_empty() && expects_resources(service) {
        return Ok(Lookup::ExpectedButNone);
    }
    Ok(Lookup::Resources(resources))
}

/// Every page of a paginated request, up to `max_pages` (YACE's limit for that API); a token
/// repeated ends the pages, as YACE's paginators stop on a duplicate token.
async fn pages<T, F, Fut>(max_pages: usize, mut ask: F) -> Result<Vec<T>, ApiError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, ApiError>>,
{
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..max_pages {
        let page = ask(token.clone()).await?;
        out.extend(page.items);
        match page.next_token {
            Some(t) if token.as_deref() != Some(t.as_str()) => token = Some(t),
            _ => break,
        }
    }
    Ok(out)
}

/// Resources known by id, kept when they pass the search tags.
fn tagged(items: Vec<Tagged>, search_tags: &[SearchTag]) -> impl Iterator<Item = Resource> + '_ {
    items.into_iter().map(|t| Resource { arn: t.id, tags: t.tags }).filter(move |r| through_tags(&r.tags, search_tags))
}

/// API Gateway's ARNs carry the API's id, while the v1 metrics' `ApiName` dimension is its name:
/// a v1 REST API's ARN gets the name in place of the id. Only the APIs themselves are kept (not
/// their stages), each REST API and v2 API at most once, as YACE's `FilterFunc` does.
async fn api_gateway<A: CloudWatchApi>(
    api: &A,
    session: &A::Session,
    input: Vec<Resource>,
) -> Result<Vec<Resource>, ApiError> {
    // YACE reads up to 11 pages of 500 REST APIs (its loop runs while `pageNum <= 10`), and one
    // page of v2 APIs.
    let mut rest_apis = pages(11, |t| api.get_rest_apis(session, 500, t)).await?;
    let mut v2_ids = api.get_apis(session, None).await?.items;
    let mut out = Vec::new();
    for mut resource in input {
        if let Some(i) = rest_apis.iter().position(|a| resource.arn.ends_with(&format!("/restapis/{}", a.id))) {
            let rest_api = rest_apis.remove(i);
            resource.arn = resource.arn.replace(&rest_api.id, &rest_api.name);
            out.push(resource.clone());
        }
        if let Some(i) = v2_ids.iter().position(|id| resource.arn.ends_with(&format!("/apis/{id}"))) {
            v2_ids.remove(i);
            out.push(resource);
        }
    }
    Ok(out)
}

/// DMS metrics carry the replication instance identifier, which its ARNs do not: the instance's
/// and its tasks' ARNs get `/<identifier>` appended.
async fn dms<A: CloudWatchApi>(api: &A, session: &A::Session, input: Vec<Resource>) -> Result<Vec<Resource>, ApiError> {
    if input.is_empty() {
        return Ok(input);
    }
    let instances = pages(100, |t| api.describe_replication_instances(session, t)).await?;
    let mut identifiers: std::collections::HashMap<String, String> =
        instances.into_iter().map(|i| (i.arn, i.identifier)).collect();
    for task in pages(100, |t| api.describe_replication_tasks(session, t)).await? {
        if let Some(identifier) = identifiers.get(&task.instance_arn).cloned() {
            identifiers.insert(task.arn, identifier);
        }
    }
    Ok(input
        .into_iter()
        .map(|mut r| {
            if let Some(identifier) = identifiers.get(&r.arn) {
                r.arn = format!("{}/{identifier}", r.arn);
            }
            r
        })
        .collect())
}

/// Storage Gateway's metrics carry the gateway's id and name: each gateway becomes a resource
/// `<id>/<name>` with the tags of its ARN. YACE ignores a failed ListTagsForResource and then
/// dereferences its empty answer (a crash); here the failure fails the job instead.
async fn storage_gateways<A: CloudWatchApi>(
    api: &A,
    session: &A::Session,
    search_tags: &[SearchTag],
) -> Result<Vec<Resource>, ApiError> {
    let mut out = Vec::new();
    for gateway in pages(100, |t| api.list_gateways(session, t)).await? {
        let tags = api.list_gateway_tags(session, &gateway.arn).await?;
        let resource = Resource { arn: format!("{}/{}", gateway.id, gateway.name), tags };
        if through_tags(&resource.tags, search_tags) {
            out.push(resource);
        }
    }
    Ok(out)
}

/// Shield's metrics carry the protected resource's ARN. Protections are global: a regional
/// resource belongs to the job in its region, a global one (Route 53, Global Accelerator; no
/// region in its ARN) to the job in us-east-1, where its metrics land. The resource's only tag is
/// `ProtectionArn`; search tags do not apply, as in YACE.
async fn protected_resources<A: CloudWatchApi>(
    api: &A,
    session: &A::Session,
    region: &str,
) -> Result<Vec<Resource>, ApiError> {
    let mut out = Vec::new();
    for p in pages(100, |t| api.list_protections(session, 100, t)).await? {
        let Some(resource_region) = arn_region(&p.resource_arn) else {
            return Err(ApiError {
                api: "shield:ListProtections",
                subject: format!("in {region}"),
                message: format!(
                    "invalid protected resource ARN {} for protection {}",
                    p.resource_arn, p.protection_arn
                ),
            });
        };
        if resource_region == region || (resource_region.is_empty() && region == "us-east-1") {
            out.push(Resource { arn: p.resource_arn, tags: vec![("ProtectionArn".into(), p.protection_arn)] });
        }
    }
    Ok(out)
}

/// The region field of an ARN, as the AWS SDK for Go's `arn.Parse` reads it: `arn:` and at least
/// six `:`-separated sections, or `None`.
pub fn arn_region(arn: &str) -> Option<&str> {
    let sections: Vec<&str> = arn.splitn(6, ':').collect();
    (sections.len() == 6 && sections[0] == "arn").then(|| sections[3])
}

#[cfg(test)]
#[path = "resources_yace_cases.rs"]
mod yace_cases;
