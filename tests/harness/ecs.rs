//! ECS in moto as ecs-discovery's tests need it: clusters, and a VPC whose subnet and security
//! group awsvpc (Fargate) tasks run in, with an EC2 container instance for bridge tasks on request.
//! Tasks stay RUNNING however often they are described, as a service's tasks do.

use std::borrow::Borrow;

use aws_config::SdkConfig;
use aws_sdk_ec2::types::AttributeBooleanValue;
use aws_sdk_ecs::types::{
    AwsVpcConfiguration, Compatibility, ContainerDefinition, LaunchType, NetworkConfiguration, NetworkMode, Task,
};

use crate::Moto;

/// The VPC and its one subnet, in us-east-1a.
const VPC_CIDR: &str = "10.0.0.0/16";
const SUBNET_CIDR: &str = "10.0.1.0/24";
const AVAILABILITY_ZONE: &str = "us-east-1a";

/// ECS and EC2 in moto. `M` is the moto server, owned (`Moto`) or a test's (`&Moto`).
pub struct EcsWorld<M: Borrow<Moto> = Moto> {
    pub moto: M,
    pub sdk: SdkConfig,
    pub ecs: aws_sdk_ecs::Client,
    pub subnet: String,
    pub security_group: String,
}

/// An EC2 instance registered with a cluster.
pub struct ContainerInstance {
    pub arn: String,
    pub private_ip: String,
}

impl<M: Borrow<Moto>> EcsWorld<M> {
    /// Creates `clusters` and the VPC on `moto`.
    pub async fn start(moto: M, clusters: &[impl AsRef<str>]) -> Self {
        let server = moto.borrow();
        let stay_running = serde_json::json!({"progression": "manual", "times": 1_000_000});
        let transition = serde_json::json!({"model_name": "ecs::task", "transition": stay_running});
        server.control("/moto-api/state-manager/set-transition", transition).await;
        let sdk = server.sdk_config().await;
        let ecs = aws_sdk_ecs::Client::new(&sdk);
        let ec2 = aws_sdk_ec2::Client::new(&sdk);
        for cluster in clusters {
            let cluster = cluster.as_ref();
            ecs.create_cluster()
                .cluster_name(cluster)
                .send()
                .await
                .unwrap_or_else(|e| server.fail(format!("create_cluster {cluster:?}: {e:?}")));
        }
        let vpc = ec2.create_vpc().cidr_block(VPC_CIDR).send().await;
        let vpc = vpc.unwrap_or_else(|e| server.fail(format!("create_vpc: {e:?}"))).vpc.unwrap().vpc_id.unwrap();
        // moto names a task's ENI only in a VPC with DNS host names (as ECS does).
        ec2.modify_vpc_attribute()
            .vpc_id(&vpc)
            .enable_dns_hostnames(AttributeBooleanValue::builder().value(true).build())
            .send()
            .await
            .unwrap_or_else(|e| server.fail(format!("modify_vpc_attribute {vpc}: {e:?}")));
        let subnet = ec2.create_subnet().vpc_id(&vpc).cidr_block(SUBNET_CIDR).availability_zone(AVAILABILITY_ZONE);
        let subnet = subnet.send().await.unwrap_or_else(|e| server.fail(format!("create_subnet: {e:?}")));
        let subnet = subnet.subnet.unwrap().subnet_id.unwrap();
        let group = ec2.create_security_group().group_name("tasks").description("tasks").vpc_id(&vpc).send().await;
        let security_group = group.unwrap_or_else(|e| server.fail(format!("create_security_group: {e:?}"))).group_id;
        Self { sdk, ecs, subnet, security_group: security_group.unwrap(), moto }
    }

    /// Starts an EC2 instance in the subnet and registers it with `cluster`, for EC2 tasks.
    pub async fn register_container_instance(&self, cluster: &str) -> ContainerInstance {
        let moto = self.moto.borrow();
        let instance = crate::ec2::run_instance(moto, Some(&self.subnet), &[]).await;
        let private_ip = instance.private_ip_address.expect("moto gives an instance in a subnet a private IP");
        let document = serde_json::json!({"instanceId": instance.instance_id.unwrap()}).to_string();
        let arn = self
            .ecs
            .register_container_instance()
            .cluster(cluster)
            .instance_identity_document(document)
            .send()
            .await
            .unwrap_or_else(|e| moto.fail(format!("register_container_instance in {cluster:?}: {e:?}")))
            .container_instance
            .and_then(|c| c.container_instance_arn)
            .expect("moto returns the container instance's ARN");
        ContainerInstance { arn, private_ip }
    }

    /// Registers a task definition of `family` with one container; its ARN.
    pub async fn register(
        &self,
        family: &str,
        mode: NetworkMode,
        compatibility: Compatibility,
        container: ContainerDefinition,
    ) -> String {
        self.ecs
            .register_task_definition()
            .family(family)
            .network_mode(mode)
            .requires_compatibilities(compatibility)
            .container_definitions(container)
            .send()
            .await
            .unwrap_or_else(|e| self.moto.borrow().fail(format!("register_task_definition {family:?}: {e:?}")))
            .task_definition
            .and_then(|d| d.task_definition_arn)
            .expect("moto returns the task definition's ARN")
    }

    /// Registers a Fargate (awsvpc) definition of `family` whose one container, `web`, carries
    /// the docker labels `labels`; its ARN.
    pub async fn register_fargate(&self, family: &str, labels: &[(&str, &str)]) -> String {
        let web = ContainerDefinition::builder().name("web").image("example/web:1").memory(128);
        let web = labels.iter().fold(web, |web, (key, value)| web.docker_labels(*key, *value));
        self.register(family, NetworkMode::Awsvpc, Compatibility::Fargate, web.build()).await
    }

    /// Runs `count` Fargate tasks of `definition` in `cluster`, in the subnet, started by `group`
    /// when given (`service:NAME` for a service's tasks).
    pub async fn run_fargate(&self, cluster: &str, definition: &str, count: i32, group: Option<&str>) -> Vec<Task> {
        let awsvpc = AwsVpcConfiguration::builder().subnets(&self.subnet).security_groups(&self.security_group);
        let network = NetworkConfiguration::builder().awsvpc_configuration(awsvpc.build().unwrap()).build();
        self.ecs
            .run_task()
            .cluster(cluster)
            .task_definition(definition)
            .launch_type(LaunchType::Fargate)
            .set_group(group.map(Into::into))
            .count(count)
            .network_configuration(network)
            .send()
            .await
            .unwrap_or_else(|e| self.moto.borrow().fail(format!("run_task in {cluster:?}: {e:?}")))
            .tasks
            .unwrap_or_default()
    }
}

/// The private IP of an awsvpc task's ENI.
pub fn eni_ip(task: &Task) -> String {
    task.attachments()
        .iter()
        .flat_map(|a| a.details())
        .find(|d| d.name() == Some("privateIPv4Address"))
        .and_then(|d| d.value())
        .expect("moto gives awsvpc tasks an ENI")
        .to_string()
}
