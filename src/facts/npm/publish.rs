//! `publish.*`: who published this version and how, as far as npm's metadata lets us infer.

use std::collections::BTreeSet;

use super::packument::{NpmUser, VersionDoc};
use super::{no_security_metadata, DeriveInput, History, RegistryShape};
use crate::facts::{ContentFacts, Fact, MaintainerFacts, PublishFacts};

fn publisher_name(doc: &VersionDoc) -> Option<String> {
    match &doc.npm_user {
        NpmUser::Present { name, .. } => name.clone(),
        NpmUser::Absent | NpmUser::Null => None,
    }
}

pub(super) fn trusted_publisher(doc: &VersionDoc, registry: &str) -> Fact<Option<String>> {
    match &doc.npm_user {
        NpmUser::Absent | NpmUser::Null => Fact::unknown(format!(
            "registry {registry} did not return the publisher (_npmUser)"
        )),
        NpmUser::Present {
            trusted_publisher, ..
        } => Fact::Known(trusted_publisher.clone()),
    }
}

pub(super) fn git_head(doc: &VersionDoc, shape: &RegistryShape, registry: &str) -> Fact<bool> {
    if doc.git_head {
        Fact::Known(true)
    } else if shape.serves_git_head || shape.serves_publishers {
        Fact::Known(false)
    } else {
        Fact::unknown(format!(
            "registry {registry} serves no gitHead for any version; it may strip publish metadata"
        ))
    }
}

/// Whether the version *lists* an attestation. This is what history and trust comparisons use:
/// earlier versions are not re-verified, and a listing is what pnpm's trust policy reads too.
pub(super) fn listed_provenance(
    input: &DeriveInput<'_>,
    doc: &VersionDoc,
    shape: &RegistryShape,
) -> Fact<bool> {
    if doc.dist.attestations.is_some() {
        Fact::Known(true)
    } else if shape.serves_signatures {
        Fact::Known(false)
    } else {
        Fact::unknown(no_security_metadata(input.registry))
    }
}

pub(super) fn publish_facts(
    input: &DeriveInput<'_>,
    doc: &VersionDoc,
    history: &History,
    maintainers: &MaintainerFacts,
    shape: &RegistryShape,
) -> PublishFacts {
    let no_user = format!(
        "registry {} did not return the publisher (_npmUser)",
        input.registry
    );
    let publisher = match publisher_name(doc) {
        Some(n) => Fact::Known(n),
        None => Fact::unknown(no_user.clone()),
    };
    let previous_publishers: Fact<Vec<String>> = if history.earlier.is_empty() {
        Fact::unknown("there is no earlier version")
    } else {
        let names: BTreeSet<String> = history
            .earlier
            .iter()
            .filter_map(|v| input.packument.versions.get(v))
            .filter_map(publisher_name)
            .collect();
        if names.is_empty() {
            Fact::unknown(format!(
                "registry {} returned no publishers for earlier versions",
                input.registry
            ))
        } else {
            Fact::Known(names.into_iter().collect())
        }
    };
    let new_publisher = match (&publisher, &previous_publishers) {
        (Fact::Known(p), Fact::Known(prev)) => Fact::Known(!prev.contains(p)),
        (Fact::Unknown { reason }, _) | (_, Fact::Unknown { reason }) => Fact::unknown(reason),
    };
    let publisher_is_maintainer = match (&publisher, &maintainers.names) {
        (Fact::Known(p), Fact::Known(m)) => Fact::Known(m.contains(p)),
        (Fact::Unknown { reason }, _) | (_, Fact::Unknown { reason }) => Fact::unknown(reason),
    };
    let tp = trusted_publisher(doc, input.registry);
    let has_signatures = if doc.dist.has_signatures() {
        Fact::Known(true)
    } else if shape.serves_signatures {
        Fact::Known(false)
    } else {
        Fact::unknown(no_security_metadata(input.registry))
    };
    let provenance = listed_provenance(input, doc, shape);
    let (method, method_evidence) = infer_method(&publisher, &tp, &provenance);
    PublishFacts {
        publisher,
        publisher_is_maintainer,
        new_publisher,
        previous_publishers,
        trusted_publisher: tp.map(Option::is_some),
        trusted_publisher_provider: tp,
        has_signatures,
        git_head: git_head(doc, shape, input.registry),
        method,
        method_evidence,
    }
}

/// npm exposes neither the token type nor 2FA, so the method stays an inference; these are the
/// other signals issue E names, recorded beside it as evidence for a human reader.
pub(super) fn add_method_evidence(publish: &mut PublishFacts, content: &Fact<ContentFacts>) {
    match &publish.git_head {
        Fact::Known(true) => publish
            .method_evidence
            .push("gitHead is recorded: published from a git work tree".into()),
        Fact::Known(false) => publish
            .method_evidence
            .push("no gitHead: not published from a git work tree".into()),
        Fact::Unknown { .. } => {}
    }
    if let Some(files) = content
        .known()
        .and_then(|c| c.never_packed.known())
        .filter(|l| !l.is_empty())
    {
        publish.method_evidence.push(format!(
            "the tarball holds files npm never packs ({}): it was not made by npm pack",
            files.join(", ")
        ));
    }
}

fn infer_method(
    publisher: &Fact<String>,
    trusted: &Fact<Option<String>>,
    provenance: &Fact<bool>,
) -> (Fact<String>, Vec<String>) {
    if let Fact::Known(Some(provider)) = trusted {
        return (
            Fact::Known("trusted-publisher".into()),
            vec![format!("_npmUser.trustedPublisher is set (id: {provider})")],
        );
    }
    if provenance.known() == Some(&true) {
        return (
            Fact::Known("ci-provenance".into()),
            vec!["dist.attestations lists a provenance attestation".into()],
        );
    }
    match (publisher, trusted, provenance) {
        (Fact::Known(user), Fact::Known(None), Fact::Known(false)) => (
            Fact::Known("token-human".into()),
            vec![
                format!("published by account {user} without trusted publishing"),
                "no provenance attestation".into(),
            ],
        ),
        _ => {
            let reason = [trusted.clone().map(|_| ()), provenance.map(|_| ())]
                .into_iter()
                .find_map(|f| match f {
                    Fact::Unknown { reason } => Some(reason),
                    Fact::Known(()) => None,
                })
                .unwrap_or_else(|| "the publish evidence is incomplete".into());
            (Fact::unknown(reason), vec![])
        }
    }
}
