//! template.yaml's ECS containers as a deploy would start them, so a test can run a container's
//! exact command locally. The template is evaluated the way CloudFormation does it: parameters
//! take their defaults (or a test's values), conditions are evaluated, and the intrinsic functions
//! a container definition uses (`!Ref`, `!Sub`, `!If`, `!Join`, `!Split`, `!Select`, `!Equals`, `!Not`,
//! `!And`, `!Or`, `!Condition`, `!GetAtt`, short or `Fn::` form) are applied; `!Ref AWS::NoValue`
//! removes the list item or key it stands for.
//!
//! A resource's name or attribute is only known after a deploy: `!Ref Bucket` evaluates to the
//! stand-in `<resource:Bucket>` and `!GetAtt Role.Arn` to `<resource:Role.Arn>`, which
//! [`Container::local_args`] refuses to pass to a process. A reference to a resource the deploy
//! does not create (its `Condition` is false) is an error, as CloudFormation makes it; a name SAM
//! generates from a function (`!GetAtt FnUrl.FunctionUrl`, `!Ref Fn.Alias`) counts as that function.
//! [`Deployment::rule_failures`] evaluates the template's `Rules` (`!Contains` included).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

/// The pseudo parameters, as in a deploy of a stack named `promstack` to us-east-1.
const PSEUDO_PARAMETERS: &[(&str, &str)] = &[
    ("AWS::AccountId", "123456789012"),
    ("AWS::Partition", "aws"),
    ("AWS::Region", "us-east-1"),
    ("AWS::StackId", "arn:aws:cloudformation:us-east-1:123456789012:stack/promstack/0"),
    ("AWS::StackName", "promstack"),
    ("AWS::URLSuffix", "amazonaws.com"),
];

/// What an image runs when the container sets no `EntryPoint`, and in which directory: the
/// `ENTRYPOINT` and `WORKDIR` of the images' Dockerfiles (prometheus/prometheus, thanos-io/thanos).
pub const IMAGE_DEFAULTS: &[ImageDefaults] = &[
    ImageDefaults {
        repository: "quay.io/prometheus/prometheus",
        entry_point: "/bin/prometheus",
        workdir: "/prometheus",
    },
    ImageDefaults { repository: "quay.io/thanos/thanos", entry_point: "/bin/thanos", workdir: "/" },
];

pub struct ImageDefaults {
    pub repository: &'static str,
    pub entry_point: &'static str,
    pub workdir: &'static str,
}

/// A parsed template.
pub struct Template {
    root: Value,
}

impl Template {
    pub fn parse(yaml: &str) -> Result<Self, String> {
        let root: Value = serde_norway::from_str(yaml).map_err(|e| format!("template: {e}"))?;
        if !root.is_mapping() {
            return Err("template: not a mapping".into());
        }
        Ok(Template { root })
    }

    /// The repository's `template.yaml`.
    pub fn repo() -> Self {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("template.yaml");
        let yaml = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Self::parse(&yaml).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn section(&self, name: &str) -> Option<&Mapping> {
        self.root.get(name).and_then(Value::as_mapping)
    }

    /// The template with `values` for some parameters and the defaults for the rest. A name that
    /// is not a parameter is an error (a test would otherwise check a deploy nobody can make).
    pub fn deploy(&self, values: &[(&str, &str)]) -> Result<Deployment<'_>, String> {
        let declared = self.section("Parameters").cloned().unwrap_or_default();
        let mut parameters = BTreeMap::new();
        for (name, spec) in &declared {
            let name = name.as_str().ok_or("Parameters: a name is not a string")?;
            let kind = spec.get("Type").and_then(Value::as_str).unwrap_or("String");
            let default = spec.get("Default").map(|d| scalar_string(d).ok_or(format!("parameter {name}: Default")));
            parameters.insert(
                name.to_string(),
                Parameter {
                    value: default.transpose()?,
                    list: kind.starts_with("List<") || kind == "CommaDelimitedList",
                },
            );
        }
        for (name, value) in values {
            let p = parameters.get_mut(*name).ok_or_else(|| format!("{name} is not a parameter of the template"))?;
            p.value = Some(value.to_string());
        }
        Ok(Deployment { template: self, parameters })
    }
}

struct Parameter {
    value: Option<String>,
    /// `CommaDelimitedList` or `List<...>`: `!Ref` gives a list.
    list: bool,
}

/// A template with a value for every parameter it uses: what a deploy would create.
pub struct Deployment<'a> {
    template: &'a Template,
    parameters: BTreeMap<String, Parameter>,
}

/// A volume mounted into a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountPoint {
    pub container_path: String,
    pub volume: String,
    /// The volume is the EFS file system (the config the Lambdas write), not task storage.
    pub efs: bool,
    pub read_only: bool,
}

/// One evaluated container definition.
#[derive(Debug, Clone)]
pub struct Container {
    /// The task definition's logical id.
    pub task_definition: String,
    pub name: String,
    pub image: String,
    pub entry_point: Option<Vec<String>>,
    pub command: Vec<String>,
    pub environment: BTreeMap<String, String>,
    pub mount_points: Vec<MountPoint>,
    pub container_ports: Vec<u16>,
    /// The health check's command after `CMD` (ECS' exec form).
    pub health_check: Option<Vec<String>>,
}

impl Container {
    /// `task_definition/name`, for messages.
    pub fn id(&self) -> String {
        format!("{}/{}", self.task_definition, self.name)
    }

    /// The image's defaults, if it is one of [`IMAGE_DEFAULTS`].
    pub fn image_defaults(&self) -> Option<&'static ImageDefaults> {
        let repository = self.image.rsplit_once(':').map_or(self.image.as_str(), |(r, _)| r);
        IMAGE_DEFAULTS.iter().find(|d| d.repository == repository)
    }

    /// The program the container runs: its `EntryPoint`'s first word, or the image's.
    pub fn program(&self) -> Option<String> {
        match &self.entry_point {
            Some(entry) => entry.first().cloned(),
            None => self.image_defaults().map(|d| d.entry_point.to_string()),
        }
    }

    /// The value of `--name=value` in the command.
    pub fn flag(&self, name: &str) -> Option<&str> {
        let prefix = format!("--{name}=");
        self.command.iter().find_map(|a| a.strip_prefix(prefix.as_str()))
    }

    /// The mount point that holds `container_path` (the longest match), and the rest of the path.
    fn mount_of<'c>(&'c self, container_path: &'c str) -> Option<(&'c MountPoint, &'c str)> {
        self.mount_points
            .iter()
            .filter_map(|m| {
                let rest = container_path.strip_prefix(m.container_path.trim_end_matches('/'))?;
                (rest.is_empty() || rest.starts_with('/')).then_some((m, rest))
            })
            .max_by_key(|(m, _)| m.container_path.len())
    }

    /// `container_path` on the host, given a host directory for each mount point (by container
    /// path). A path outside every volume is on the image's read-only root: an error.
    pub fn host_path(&self, container_path: &str, volumes: &BTreeMap<String, PathBuf>) -> Result<PathBuf, String> {
        let (mount, rest) = self
            .mount_of(container_path)
            .ok_or_else(|| format!("{}: {container_path} is on none of the container's volumes", self.id()))?;
        let dir = volumes
            .get(&mount.container_path)
            .ok_or_else(|| format!("{}: no host directory given for {}", self.id(), mount.container_path))?;
        let rest = rest.trim_start_matches('/');
        Ok(if rest.is_empty() { dir.clone() } else { dir.join(rest) })
    }

    /// The command with every container path (a whole argument or the value of `--flag=`) moved
    /// to its host directory. A resource stand-in is an error: no process could use it.
    pub fn local_args(&self, volumes: &BTreeMap<String, PathBuf>) -> Result<Vec<String>, String> {
        self.command
            .iter()
            .map(|arg| {
                if arg.contains(STAND_IN) {
                    return Err(format!("{}: {arg:?} refers to a resource that exists only once deployed", self.id()));
                }
                let (flag, value) = match arg.split_once('=') {
                    Some((flag, value)) if flag.starts_with('-') => (Some(flag), value),
                    _ => (None, arg.as_str()),
                };
                if !value.starts_with('/') {
                    return Ok(arg.clone());
                }
                let host = self.host_path(value, volumes)?.display().to_string();
                Ok(match flag {
                    Some(flag) => format!("{flag}={host}"),
                    None => host,
                })
            })
            .collect()
    }
}

impl Deployment<'_> {
    /// Every container of every ECS task definition the deploy creates, in template order.
    pub fn containers(&self) -> Result<Vec<Container>, String> {
        let mut out = Vec::new();
        for (id, resource) in self.template.section("Resources").ok_or("template: no Resources")? {
            let id = id.as_str().ok_or("Resources: a logical id is not a string")?;
            if resource.get("Type").and_then(Value::as_str) != Some("AWS::ECS::TaskDefinition") {
                continue;
            }
            if let Some(condition) = resource.get("Condition").and_then(Value::as_str) {
                if !self.condition(condition)? {
                    continue;
                }
            }
            let properties = resource.get("Properties").ok_or_else(|| format!("{id}: no Properties"))?;
            let properties = self.eval(properties).map_err(|e| format!("{id}: {e}"))?.unwrap_or_default();
            let mut efs_volumes = BTreeMap::new();
            for volume in properties.get("Volumes").and_then(Value::as_sequence).into_iter().flatten() {
                let name = text(volume.get("Name"), &format!("{id}: Volumes[].Name"))?;
                efs_volumes.insert(name, volume.get("EFSVolumeConfiguration").is_some());
            }
            let definitions = properties.get("ContainerDefinitions").and_then(Value::as_sequence);
            for definition in definitions.ok_or_else(|| format!("{id}: no ContainerDefinitions"))? {
                out.push(container(id, definition, &efs_volumes)?);
            }
        }
        Ok(out)
    }

    /// The container `name` of the task definition `task_definition`.
    pub fn container(&self, task_definition: &str, name: &str) -> Result<Container, String> {
        self.containers()?
            .into_iter()
            .find(|c| c.task_definition == task_definition && c.name == name)
            .ok_or_else(|| format!("template: no container {name} in {task_definition}"))
    }

    /// The logical ids of the resources this deploy creates (conditions evaluated), in template order.
    pub fn created_resources(&self) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for (id, _) in self.template.section("Resources").ok_or("template: no Resources")? {
            let id = id.as_str().ok_or("Resources: a logical id is not a string")?;
            if self.creates(id)? {
                out.push(id.to_string());
            }
        }
        Ok(out)
    }

    /// Whether the deploy creates the declared resource `id` (an undeclared one is an error).
    pub fn creates(&self, id: &str) -> Result<bool, String> {
        let resource =
            self.template.section("Resources").and_then(|r| r.get(id)).ok_or_else(|| format!("no resource {id}"))?;
        match resource.get("Condition").and_then(Value::as_str) {
            Some(condition) => self.condition(condition),
            None => Ok(true),
        }
    }

    /// The evaluated `Properties` of the resource `id`, which this deploy must create.
    pub fn properties(&self, id: &str) -> Result<Value, String> {
        self.created(id)?;
        let resource = &self.template.section("Resources").ok_or("template: no Resources")?[id];
        let properties = resource.get("Properties").ok_or_else(|| format!("{id}: no Properties"))?;
        Ok(self.eval(properties).map_err(|e| format!("{id}: {e}"))?.unwrap_or_default())
    }

    /// Every part of the created resources (`Properties`, `Metadata`, `DependsOn`) and of the
    /// outputs the deploy has, evaluated: an error names each reference to something the deploy
    /// does not create.
    pub fn dangling_references(&self) -> Result<Vec<String>, String> {
        let mut problems = Vec::new();
        let resources = self.template.section("Resources").ok_or("template: no Resources")?;
        for id in self.created_resources()? {
            let resource = &resources[id.as_str()];
            for part in ["Properties", "Metadata"] {
                if let Some(v) = resource.get(part) {
                    if let Err(e) = self.eval(v) {
                        problems.push(format!("{id}.{part}: {e}"));
                    }
                }
            }
            let depends_on = match resource.get("DependsOn") {
                Some(Value::Sequence(items)) => items.iter().filter_map(Value::as_str).collect(),
                Some(Value::String(one)) => vec![one.as_str()],
                _ => vec![],
            };
            for target in depends_on {
                match self.creates(target) {
                    Ok(true) => {}
                    Ok(false) => problems.push(format!("{id}.DependsOn: {target} is not created in this deploy")),
                    Err(e) => problems.push(format!("{id}.DependsOn: {e}")),
                }
            }
        }
        for (name, output) in self.template.section("Outputs").into_iter().flatten() {
            let name = name.as_str().unwrap_or("?");
            if let Some(condition) = output.get("Condition").and_then(Value::as_str) {
                if !self.condition(condition)? {
                    continue;
                }
            }
            if let Err(e) = output.get("Value").map(|v| self.eval(v)).transpose() {
                problems.push(format!("output {name}: {e}"));
            }
        }
        Ok(problems)
    }

    /// The evaluated `Environment.Variables` of the function resource `id` (with `Globals.Function`'s):
    /// a variable whose value is `AWS::NoValue` is not set.
    pub fn function_environment(&self, id: &str) -> Result<BTreeMap<String, String>, String> {
        let resource =
            self.template.section("Resources").and_then(|r| r.get(id)).ok_or_else(|| format!("no resource {id}"))?;
        let global = self.template.section("Globals").and_then(|g| g.get("Function"));
        let mut out = BTreeMap::new();
        for holder in [global, resource.get("Properties")].into_iter().flatten() {
            let Some(variables) = holder.get("Environment").and_then(|e| e.get("Variables")) else { continue };
            let evaluated = self.eval(variables).map_err(|e| format!("{id}: Environment.Variables: {e}"))?;
            for (name, value) in evaluated.as_ref().and_then(Value::as_mapping).into_iter().flatten() {
                let name = name.as_str().ok_or_else(|| format!("{id}: an environment name is not a string"))?;
                let value = scalar_string(value).ok_or_else(|| format!("{id}: {name} is not a string: {value:?}"))?;
                out.insert(name.to_string(), value);
            }
        }
        Ok(out)
    }

    /// The `AssertDescription` of every assertion of the template's `Rules` that this deploy
    /// fails (CloudFormation refuses such a deploy before it creates anything).
    pub fn rule_failures(&self) -> Result<Vec<String>, String> {
        let mut failures = Vec::new();
        for (name, rule) in self.template.section("Rules").into_iter().flatten() {
            let name = name.as_str().unwrap_or("?");
            if let Some(condition) = rule.get("RuleCondition") {
                if !self.truth(condition).map_err(|e| format!("rule {name}: RuleCondition: {e}"))? {
                    continue;
                }
            }
            for assertion in rule.get("Assertions").and_then(Value::as_sequence).into_iter().flatten() {
                let holds =
                    assertion.get("Assert").ok_or_else(|| format!("rule {name}: an assertion has no Assert"))?;
                if !self.truth(holds).map_err(|e| format!("rule {name}: {e}"))? {
                    failures
                        .push(text(assertion.get("AssertDescription"), &format!("rule {name}: AssertDescription"))?);
                }
            }
        }
        Ok(failures)
    }

    /// Whether the condition `name` holds for this deploy.
    pub fn condition(&self, name: &str) -> Result<bool, String> {
        let body = self
            .template
            .section("Conditions")
            .and_then(|c| c.get(name))
            .ok_or_else(|| format!("no condition {name}"))?;
        match self.eval(body).map_err(|e| format!("condition {name}: {e}"))? {
            Some(Value::Bool(b)) => Ok(b),
            other => Err(format!("condition {name} is not true or false: {other:?}")),
        }
    }

    /// `v` evaluated; `None` is `AWS::NoValue`.
    pub fn eval(&self, v: &Value) -> Result<Option<Value>, String> {
        if let Some((function, argument)) = intrinsic(v) {
            return self.call(&function, argument).map_err(|e| format!("!{function}: {e}"));
        }
        Ok(Some(match v {
            Value::Sequence(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.extend(self.eval(item)?);
                }
                Value::Sequence(out)
            }
            Value::Mapping(map) => {
                let mut out = Mapping::new();
                for (k, item) in map {
                    if let Some(item) = self.eval(item).map_err(|e| format!("{}: {e}", k.as_str().unwrap_or("?")))? {
                        out.insert(k.clone(), item);
                    }
                }
                Value::Mapping(out)
            }
            other => other.clone(),
        }))
    }

    fn eval_string(&self, v: &Value) -> Result<String, String> {
        let value = self.eval(v)?.ok_or("AWS::NoValue where a string is needed")?;
        scalar_string(&value).ok_or_else(|| format!("{value:?} is not a string"))
    }

    fn eval_list(&self, v: &Value) -> Result<Vec<Value>, String> {
        match self.eval(v)? {
            Some(Value::Sequence(items)) => Ok(items),
            other => Err(format!("{other:?} is not a list")),
        }
    }

    fn call(&self, function: &str, argument: &Value) -> Result<Option<Value>, String> {
        let args = |n: usize| -> Result<&Vec<Value>, String> {
            match argument.as_sequence() {
                Some(items) if items.len() == n => Ok(items),
                _ => Err(format!("takes a list of {n}, got {argument:?}")),
            }
        };
        Ok(Some(match function {
            "Ref" => return self.reference(argument.as_str().ok_or("takes a name")?),
            "Sub" => {
                let (text, vars) = match argument {
                    Value::Sequence(items) if items.len() == 2 => (&items[0], Some(&items[1])),
                    other => (other, None),
                };
                let mut values = BTreeMap::new();
                for (k, v) in vars.and_then(Value::as_mapping).into_iter().flatten() {
                    values.insert(k.as_str().unwrap_or_default().to_string(), self.eval_string(v)?);
                }
                Value::String(self.substitute(text.as_str().ok_or("takes a string")?, &values)?)
            }
            "If" => {
                let a = args(3)?;
                let name = a[0].as_str().ok_or("the condition is not a name")?;
                let branch = if self.condition(name)? { &a[1] } else { &a[2] };
                return self.eval(branch);
            }
            "Equals" => {
                let a = args(2)?;
                // `!Equals [!Ref Replicas, 1]`: a parameter is a string, the literal a number.
                let (x, y) = (self.eval(&a[0])?, self.eval(&a[1])?);
                Value::Bool(match (x.as_ref().and_then(scalar_string), y.as_ref().and_then(scalar_string)) {
                    (Some(x), Some(y)) => x == y,
                    _ => x == y,
                })
            }
            "Not" => Value::Bool(!self.truth(&args(1)?[0])?),
            "And" | "Or" => {
                let items = argument.as_sequence().ok_or("takes a list")?;
                let mut all = Vec::with_capacity(items.len());
                for item in items {
                    all.push(self.truth(item)?);
                }
                Value::Bool(if function == "And" { all.iter().all(|b| *b) } else { all.iter().any(|b| *b) })
            }
            "Condition" => Value::Bool(self.condition(argument.as_str().ok_or("takes a name")?)?),
            // Rules only: whether the list holds the value.
            "Contains" => {
                let a = args(2)?;
                let needle = self.eval_string(&a[1])?;
                Value::Bool(self.eval_list(&a[0])?.iter().any(|item| scalar_string(item).as_deref() == Some(&needle)))
            }
            "Join" => {
                let a = args(2)?;
                let delimiter = a[0].as_str().ok_or("the delimiter is not a string")?;
                let parts: Result<Vec<String>, String> = self
                    .eval_list(&a[1])?
                    .iter()
                    .map(|p| scalar_string(p).ok_or_else(|| format!("{p:?} is not a string")))
                    .collect();
                Value::String(parts?.join(delimiter))
            }
            "Split" => {
                let a = args(2)?;
                let delimiter = a[0].as_str().ok_or("the delimiter is not a string")?;
                let text = self.eval_string(&a[1])?;
                Value::Sequence(text.split(delimiter).map(|part| Value::String(part.to_string())).collect())
            }
            "Select" => {
                let a = args(2)?;
                let index: usize = self.eval_string(&a[0])?.parse().map_err(|_| "the index is not a number")?;
                let items = self.eval_list(&a[1])?;
                items.get(index).cloned().ok_or_else(|| format!("index {index} of a list of {}", items.len()))?
            }
            "GetAtt" => {
                let target = match argument {
                    Value::Sequence(items) => {
                        items.iter().map(|i| self.eval_string(i)).collect::<Result<Vec<_>, _>>()?.join(".")
                    }
                    other => other.as_str().ok_or("takes Resource.Attribute")?.to_string(),
                };
                self.created(target.split_once('.').map_or(target.as_str(), |(resource, _)| resource))?;
                Value::String(stand_in(&target))
            }
            other => return Err(format!("{other} is not evaluated here (add it to tests/harness/template.rs)")),
        }))
    }

    fn truth(&self, v: &Value) -> Result<bool, String> {
        match self.eval(v)? {
            Some(Value::Bool(b)) => Ok(b),
            other => Err(format!("{other:?} is not true or false")),
        }
    }

    fn reference(&self, name: &str) -> Result<Option<Value>, String> {
        if name == "AWS::NoValue" {
            return Ok(None);
        }
        if let Some((_, v)) = PSEUDO_PARAMETERS.iter().find(|(n, _)| *n == name) {
            return Ok(Some(Value::String(v.to_string())));
        }
        if let Some(p) = self.parameters.get(name) {
            let value = p.value.clone().ok_or_else(|| format!("parameter {name} has no default: give it a value"))?;
            return Ok(Some(if p.list {
                Value::Sequence(value.split(',').map(|s| Value::String(s.trim().to_string())).collect())
            } else {
                Value::String(value)
            }));
        }
        // `Function.Alias` / `Function.Version`: SAM's references to what AutoPublishAlias creates.
        let resource = name.split_once('.').map_or(name, |(resource, _)| resource);
        if self.template.section("Resources").is_some_and(|r| r.contains_key(resource)) {
            self.created(resource)?;
            return Ok(Some(Value::String(stand_in(name))));
        }
        Err(format!("{name} is neither a parameter nor a resource"))
    }

    /// `Ok` when `resource` is created by this deploy, or is a name SAM generates from a created
    /// function (`<Function>Url`, `<Function>Role`, `<Function>Alias<name>`).
    fn created(&self, resource: &str) -> Result<(), String> {
        let resources = self.template.section("Resources").ok_or("template: no Resources")?;
        if resources.contains_key(resource) {
            return match self.creates(resource)? {
                true => Ok(()),
                false => Err(format!("{resource} is not created in this deploy (its Condition is false)")),
            };
        }
        let generated_from = resources.iter().find_map(|(id, r)| {
            let id = id.as_str()?;
            let function = r.get("Type").and_then(Value::as_str) == Some("AWS::Serverless::Function");
            (function && resource.strip_prefix(id).is_some_and(|rest| !rest.is_empty())).then_some(id)
        });
        match generated_from {
            Some(function) => self.created(function),
            None => Err(format!("{resource} is not a resource of the template")),
        }
    }

    /// `!Sub`: `${Name}` (a variable of the `!Sub`, a parameter, a pseudo parameter or a
    /// resource), `${Resource.Attribute}`, and `${!Text}` for a literal `${Text}`.
    fn substitute(&self, text: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').ok_or_else(|| format!("unclosed ${{ in {text:?}"))? + start;
            let name = &rest[start + 2..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str(&format!("${{{literal}}}"));
            } else if let Some(v) = vars.get(name) {
                out.push_str(v);
            } else if let Some((resource, _)) = name.split_once('.') {
                self.created(resource)?;
                out.push_str(&stand_in(name));
            } else {
                let value = self.reference(name)?.ok_or_else(|| format!("${{{name}}} is AWS::NoValue"))?;
                out.push_str(&scalar_string(&value).ok_or_else(|| format!("${{{name}}} is a list"))?);
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// A short-form tag (`!Ref x`) or a one-key `Ref` / `Fn::*` mapping: the function and its argument.
fn intrinsic(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            Some((tag.trim_start_matches('!').to_string(), &tagged.value))
        }
        Value::Mapping(map) if map.len() == 1 => {
            let (k, v) = map.iter().next()?;
            let k = k.as_str()?;
            if k == "Ref" {
                Some(("Ref".into(), v))
            } else {
                k.strip_prefix("Fn::").map(|f| (f.to_string(), v))
            }
        }
        _ => None,
    }
}

/// Marks a value only a deploy knows: a resource's name or attribute.
const STAND_IN: &str = "<resource:";

fn stand_in(name: &str) -> String {
    format!("{STAND_IN}{name}>")
}

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn text(v: Option<&Value>, what: &str) -> Result<String, String> {
    v.and_then(scalar_string).ok_or_else(|| format!("{what}: missing or not a string"))
}

fn strings(v: Option<&Value>, what: &str) -> Result<Option<Vec<String>>, String> {
    let Some(v) = v else { return Ok(None) };
    let items = v.as_sequence().ok_or_else(|| format!("{what}: not a list"))?;
    items
        .iter()
        .map(|i| scalar_string(i).ok_or_else(|| format!("{what}: {i:?} is not a string")))
        .collect::<Result<_, _>>()
        .map(Some)
}

/// One evaluated container definition of the task definition `task` (`efs_volumes`: volume name
/// to whether it is EFS).
fn container(task: &str, definition: &Value, efs_volumes: &BTreeMap<String, bool>) -> Result<Container, String> {
    let name = text(definition.get("Name"), &format!("{task}: ContainerDefinitions[].Name"))?;
    let at = |field: &str| format!("{task}/{name}: {field}");
    let mut mount_points = Vec::new();
    for m in definition.get("MountPoints").and_then(Value::as_sequence).into_iter().flatten() {
        let volume = text(m.get("SourceVolume"), &at("MountPoints[].SourceVolume"))?;
        let efs = *efs_volumes.get(&volume).ok_or_else(|| at(&format!("MountPoints: no volume {volume}")))?;
        mount_points.push(MountPoint {
            container_path: text(m.get("ContainerPath"), &at("MountPoints[].ContainerPath"))?,
            read_only: m.get("ReadOnly").and_then(Value::as_bool).unwrap_or(false),
            volume,
            efs,
        });
    }
    let mut environment = BTreeMap::new();
    for e in definition.get("Environment").and_then(Value::as_sequence).into_iter().flatten() {
        environment
            .insert(text(e.get("Name"), &at("Environment[].Name"))?, text(e.get("Value"), &at("Environment[].Value"))?);
    }
    let container_ports = definition
        .get("PortMappings")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .map(|p| p.get("ContainerPort").and_then(Value::as_u64).and_then(|p| u16::try_from(p).ok()))
        .collect::<Option<Vec<u16>>>()
        .ok_or_else(|| at("PortMappings[].ContainerPort"))?;
    let health_check =
        strings(definition.get("HealthCheck").and_then(|h| h.get("Command")), &at("HealthCheck.Command"))?
            .map(|argv| match argv.split_first() {
                Some((first, rest)) if first == "CMD" => Ok(rest.to_vec()),
                _ => Err(at("HealthCheck.Command: only the exec form [CMD, ...] is read here")),
            })
            .transpose()?;
    Ok(Container {
        task_definition: task.to_string(),
        image: text(definition.get("Image"), &at("Image"))?,
        entry_point: strings(definition.get("EntryPoint"), &at("EntryPoint"))?,
        command: strings(definition.get("Command"), &at("Command"))?.unwrap_or_default(),
        environment,
        mount_points,
        container_ports,
        health_check,
        name,
    })
}
