//! Evidence selection: which registry signature to check and which attestations document to
//! fetch, decided from the version document and the registry's keys alone. Pure, so the choice
//! is testable without a server; the scan does the fetching and the cryptography.

use crate::verify::NpmKeys;

use super::packument::{Signature, VersionDoc};

/// What to do about the registry signature of one version.
#[derive(Debug, Clone, PartialEq)]
pub enum SignaturePlan<'a> {
    /// The version carries no `dist.signatures`.
    NotPresent,
    /// The signature cannot be checked: the reason (no keys, keys not fetched).
    NoKeys(String),
    /// Check every one of these signatures against these keys, as pacote does: one whose key is
    /// missing or expired fails the version even when another entry verifies.
    Check(&'a [Signature], &'a NpmKeys),
}

/// `keys` is what fetching `/-/npm/v1/keys` gave: `Ok(None)` when the registry has none, `Err`
/// with the reason when it could not be had.
pub fn signature_plan<'a>(
    doc: &'a VersionDoc,
    keys: &Result<Option<&'a NpmKeys>, String>,
    registry: &str,
) -> SignaturePlan<'a> {
    let sigs = doc.dist.signatures.as_deref().filter(|s| !s.is_empty());
    let no_keys = || SignaturePlan::NoKeys(format!("registry {registry} provides no signing keys"));
    match (sigs, keys) {
        // A registry without keys is the precise reason a signature check cannot be made there,
        // even for a version that carries none.
        (None, Ok(None)) => no_keys(),
        (None, _) => SignaturePlan::NotPresent,
        (Some(_), Ok(None)) => no_keys(),
        (Some(_), Err(reason)) => SignaturePlan::NoKeys(reason.clone()),
        (Some(sigs), Ok(Some(keys))) => SignaturePlan::Check(sigs, keys),
    }
}

/// The `dist.attestations.url` to take the path of, when the version lists attestations at all:
/// `Some(None)` when it lists them without a URL (the registry's default path is used).
pub fn attestations_to_fetch(doc: &VersionDoc) -> Option<Option<&str>> {
    doc.dist.attestations.as_ref().map(|a| a.url.as_deref())
}

#[cfg(test)]
mod tests {
    use super::super::packument::Packument;
    use super::*;
    use serde_json::json;

    fn version(dist: serde_json::Value) -> VersionDoc {
        let p = Packument::from_value(&json!({"versions": {"1.0.0": {"dist": dist}}}));
        p.versions.get("1.0.0").unwrap().clone()
    }

    fn keys(ids: &[&str]) -> NpmKeys {
        let keys: Vec<_> = ids
            .iter()
            .map(|id| {
                json!({"keyid": id, "keytype": "ecdsa-sha2-nistp256", "scheme": "ecdsa-sha2-nistp256",
                       "expires": null,
                       "key": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1Olb3zMAFFxXKHiIkQO5cJ3Yhl5i6UPp+IhuteBJbuHcA5UogKo0EWtlWwW6KSaKoTNEYL7JlCQiVnkhBktUgg=="})
            })
            .collect();
        NpmKeys::from_json(&serde_json::to_vec(&json!({"keys": keys})).unwrap()).unwrap()
    }

    #[test]
    fn every_signature_is_checked_not_only_the_one_whose_key_is_listed() {
        let doc = version(json!({"signatures": [
            {"keyid": "SHA256:old", "sig": "a"}, {"keyid": "SHA256:new", "sig": "b"}]}));
        let k = keys(&["SHA256:new"]);
        match signature_plan(&doc, &Ok(Some(&k)), "r") {
            SignaturePlan::Check(sigs, _) => {
                let ids: Vec<&str> = sigs.iter().map(|s| s.keyid.as_str()).collect();
                assert_eq!(ids, ["SHA256:old", "SHA256:new"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_keys_and_missing_signatures_are_told_apart() {
        let signed = version(json!({"signatures": [{"keyid": "k", "sig": "s"}]}));
        let unsigned = version(json!({"signatures": []}));
        let k = keys(&["k"]);
        assert!(matches!(
            signature_plan(&unsigned, &Ok(None), "r"),
            SignaturePlan::NoKeys(r) if r.contains("provides no signing keys")
        ));
        assert_eq!(
            signature_plan(&unsigned, &Ok(Some(&k)), "r"),
            SignaturePlan::NotPresent
        );
        assert_eq!(
            signature_plan(&unsigned, &Err("boom".into()), "r"),
            SignaturePlan::NotPresent
        );
        assert_eq!(
            signature_plan(&signed, &Err("boom".into()), "r"),
            SignaturePlan::NoKeys("boom".into())
        );
    }

    #[test]
    fn listed_attestations_are_fetched_by_their_url_or_the_default_path() {
        assert_eq!(attestations_to_fetch(&version(json!({}))), None);
        assert_eq!(
            attestations_to_fetch(&version(json!({"attestations": null}))),
            None
        );
        assert_eq!(
            attestations_to_fetch(&version(json!({"attestations": {"url": "https://r/a"}}))),
            Some(Some("https://r/a"))
        );
        assert_eq!(
            attestations_to_fetch(&version(json!({"attestations": {}}))),
            Some(None)
        );
    }
}
