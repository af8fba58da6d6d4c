//! `mcp-audit verify-bundle`: the sigstore-conformance protocol. Exit 0 when the bundle
//! verifies, 1 with a one-line reason when it does not, 2 when the inputs cannot be read.

use std::path::Path;

use super::{eprint, print_out, Fatal};
use crate::cli::VerifyBundleArgs;
use crate::settings::{usage, Settings};
use crate::verify::{Artifact, KeyPolicy};

pub fn run(args: &VerifyBundleArgs, settings: &Settings) -> Result<u8, Fatal> {
    let read = |p: &Path, what: &str| {
        std::fs::read(p).map_err(|e| usage(format!("cannot read {what} {}: {e}", p.display())))
    };
    let bundle = read(&args.bundle, "--bundle")?;
    let root = settings.trusted_root();
    let artifact_bytes;
    let artifact = if args.artifact.starts_with("sha256:") {
        Artifact::parse_digest(&args.artifact).map_err(|e| usage(format!("{e}")))?
    } else {
        artifact_bytes = read(Path::new(&args.artifact), "artifact")?;
        Artifact::Bytes(&artifact_bytes)
    };
    let pem;
    let policy = match (
        &args.key,
        &args.certificate_identity,
        &args.certificate_oidc_issuer,
    ) {
        (Some(key), _, _) => {
            pem = String::from_utf8(read(key, "--key")?)
                .map_err(|_| usage(format!("--key {} is not PEM text", key.display())))?;
            KeyPolicy::PublicKeyPem(&pem)
        }
        (None, Some(identity), Some(issuer)) => KeyPolicy::Identity { identity, issuer },
        _ => {
            return Err(usage(
                "give --key, or both --certificate-identity and --certificate-oidc-issuer",
            ))
        }
    };
    let clean = &settings.output.sanitizer;
    match crate::verify::verify_bundle(&bundle, artifact, &policy, &root) {
        Ok(v) => {
            // The identity comes from the certificate, which the bundle's author chose.
            let who = v
                .certificate
                .as_ref()
                .and_then(|c| c.san.clone())
                .unwrap_or_else(|| "the given key".into());
            print_out(&format!(
                "verified: bundle v{} signed by {}\n",
                clean.inline(&v.bundle_version.to_string()),
                clean.inline(&who)
            ));
            Ok(0)
        }
        Err(e) => {
            eprint(
                clean,
                &format!("verify-bundle {}: {e}", args.bundle.display()),
            );
            Ok(1)
        }
    }
}
