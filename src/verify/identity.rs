//! Who built a package, from the two places that say so: the Fulcio
//! certificate (vouched for by Fulcio from the CI's OIDC token) and the SLSA
//! predicate (written by the build itself, so only as trustworthy as the
//! workflow). Both are kept so a caller can compare them.
use serde_json::Value;
use sigstore_verify::crypto::CertificateInfo;

/// Claims from the Fulcio leaf certificate (OIDs 1.3.6.1.4.1.57264.1.*).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertIdentity {
    /// SAN URI or email: for GitHub Actions, the workflow file at a ref.
    pub san: Option<String>,
    /// OIDC issuer (.1.8, or the deprecated .1.1).
    pub issuer: Option<String>,
    /// .1.12, or `https://github.com/` + deprecated .1.5 on 2023 certs.
    pub source_repository_uri: Option<String>,
    /// Commit (.1.13, or deprecated .1.3).
    pub source_repository_digest: Option<String>,
    /// .1.14, or deprecated .1.6.
    pub source_repository_ref: Option<String>,
    /// Workflow that ran (.1.18).
    pub build_config_uri: Option<String>,
    /// `github-hosted` / `self-hosted` (.1.11). Absent on pre-2023-05 certs.
    pub runner_environment: Option<String>,
    /// Reusable workflow that signed (.1.9); differs from the source repo for
    /// builder workflows such as slsa-github-generator.
    pub build_signer_uri: Option<String>,
    pub build_trigger: Option<String>,
    pub run_invocation_uri: Option<String>,
    /// True when only the deprecated GitHub extensions were present.
    pub from_deprecated_extensions: bool,
}

impl CertIdentity {
    pub(crate) fn from_cert(info: &CertificateInfo) -> Self {
        let c = &info.ci_claims;
        let d = &c.deprecated_github;
        let legacy = c.source_repository_uri.is_none() && d.workflow_repository.is_some();
        CertIdentity {
            san: info.identity.as_ref().map(|s| s.as_str().to_string()),
            issuer: info.issuer.clone(),
            source_repository_uri: c.source_repository_uri.clone().or_else(|| {
                d.workflow_repository
                    .as_ref()
                    .map(|r| format!("https://github.com/{r}"))
            }),
            source_repository_digest: c
                .source_repository_digest
                .clone()
                .or_else(|| d.workflow_sha.clone()),
            source_repository_ref: c
                .source_repository_ref
                .clone()
                .or_else(|| d.workflow_ref.clone()),
            build_config_uri: c.build_config_uri.clone(),
            runner_environment: c.runner_environment.clone(),
            build_signer_uri: c.build_signer_uri.clone(),
            build_trigger: c
                .build_trigger
                .clone()
                .or_else(|| d.workflow_trigger.clone()),
            run_invocation_uri: c.run_invocation_uri.clone(),
            from_deprecated_extensions: legacy,
        }
    }
}

/// Claims from the SLSA provenance predicate (v0.2 or v1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PredicateIdentity {
    /// `runDetails.builder.id` (v1) / `builder.id` (v0.2).
    pub builder_id: Option<String>,
    /// Source repository as the predicate states it.
    pub source_uri: Option<String>,
    /// Commit the build started from.
    pub source_digest: Option<String>,
    /// Workflow file path (v1 `externalParameters.workflow.path`, v0.2
    /// `invocation.configSource.entryPoint`).
    pub workflow_path: Option<String>,
    pub workflow_ref: Option<String>,
}

fn s(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

impl PredicateIdentity {
    pub(crate) fn from_statement(predicate_type: &str, stmt: &Value) -> Option<Self> {
        let p = &stmt["predicate"];
        match predicate_type {
            "https://slsa.dev/provenance/v0.2" => {
                let cs = &p["invocation"]["configSource"];
                let uri = cs["uri"].as_str();
                // configSource.uri is "git+https://…@refs/…": split off the ref.
                let (repo, git_ref) = match uri.and_then(|u| u.rsplit_once('@')) {
                    Some((r, f)) => (Some(r.to_string()), Some(f.to_string())),
                    None => (uri.map(str::to_string), None),
                };
                Some(PredicateIdentity {
                    builder_id: s(&p["builder"]["id"]),
                    source_uri: repo,
                    source_digest: s(&cs["digest"]["sha1"]),
                    workflow_path: s(&cs["entryPoint"]),
                    workflow_ref: git_ref,
                })
            }
            "https://slsa.dev/provenance/v1" => {
                let wf = &p["buildDefinition"]["externalParameters"]["workflow"];
                let dep = p["buildDefinition"]["resolvedDependencies"]
                    .as_array()
                    .and_then(|d| d.first())
                    .cloned()
                    .unwrap_or(Value::Null);
                Some(PredicateIdentity {
                    builder_id: s(&p["runDetails"]["builder"]["id"]),
                    source_uri: s(&wf["repository"]),
                    source_digest: s(&dep["digest"]["gitCommit"]),
                    workflow_path: s(&wf["path"]),
                    workflow_ref: s(&wf["ref"]),
                })
            }
            _ => None,
        }
    }
}
