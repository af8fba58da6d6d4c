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
    /// Check this signature (its key may still turn out missing or expired).
    Check(&'a Signature),
}

/// `keys` is what fetching `/-/npm/v1/keys` gave: `Ok(None)` when the registry has none, `Err`
/// with the reason when it could not be had.
pub fn signature_plan<'a>(
    doc: &'a VersionDoc,
    keys: &Result<Option<&NpmKeys>, String>,
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
        // Like pacote: use the signature whose key the registry still lists.
        (Some(sigs), Ok(Some(keys))) => SignaturePlan::Check(
            sigs.iter()
                .find(|s| keys.get(&s.keyid).is_some())
                .unwrap_or(&sigs[0]),
        ),
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
    fn the_signature_whose_key_is_listed_is_checked() {
        let doc = version(json!({"signatures": [
            {"keyid": "SHA256:old", "sig": "a"}, {"keyid": "SHA256:new", "sig": "b"}]}));
        let k = keys(&["SHA256:new"]);
        match signature_plan(&doc, &Ok(Some(&k)), "r") {
            SignaturePlan::Check(s) => assert_eq!(s.sig, "b"),
            other => panic!("{other:?}"),
        }
        // No listed key: the first one, so the check reports the missing key.
        let k = keys(&["SHA256:other"]);
        match signature_plan(&doc, &Ok(Some(&k)), "r") {
            SignaturePlan::Check(s) => assert_eq!(s.keyid, "SHA256:old"),
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
