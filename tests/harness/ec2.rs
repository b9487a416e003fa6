//! EC2 instances in moto: the resources the exporter's discovery jobs find by their tags, and the
//! hosts that ECS container instances run on.

use aws_sdk_ec2::types::{Instance, ResourceType, Tag, TagSpecification};

use crate::Moto;

/// The image every test instance runs (one moto knows).
const IMAGE: &str = "ami-12c6146b";

/// Starts one instance carrying `tags`, in `subnet` or in moto's default VPC.
pub async fn run_instance(moto: &Moto, subnet: Option<&str>, tags: &[(&str, &str)]) -> Instance {
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config().await);
    let mut request = ec2.run_instances().image_id(IMAGE).min_count(1).max_count(1);
    request = request.set_subnet_id(subnet.map(Into::into));
    if !tags.is_empty() {
        let spec = tags
            .iter()
            .fold(TagSpecification::builder().resource_type(ResourceType::Instance), |spec, (key, value)| {
                spec.tags(Tag::builder().key(*key).value(*value).build())
            });
        request = request.tag_specifications(spec.build());
    }
    let mut instances = request
        .send()
        .await
        .unwrap_or_else(|e| moto.fail(format!("run_instances with tags {tags:?}: {e:?}")))
        .instances
        .unwrap_or_default();
    if instances.len() != 1 {
        moto.fail(format!("run_instances with tags {tags:?} started {} instances, not 1", instances.len()));
    }
    instances.remove(0)
}

/// The id of a new instance in the default VPC carrying `tags`.
pub async fn run_tagged_instance(moto: &Moto, tags: &[(&str, &str)]) -> String {
    run_instance(moto, None, tags).await.instance_id.expect("moto names every instance")
}
