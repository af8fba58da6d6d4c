//! PEP 740 provenance objects and single attestations: arbitrary bytes verified offline, as a
//! provenance object and as one attestation (with a GitHub publisher, so the policy code runs
//! whenever a signature would hold), for a fixed real distribution. The seeds are the real
//! pypi-attestations assets, so mutations start from well-formed documents.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mcp_audit::verify::{verify_attestation, verify_provenance, DistFile, TrustedPublisher, TrustedRoot};

fn root() -> &'static TrustedRoot {
    static ROOT: OnceLock<TrustedRoot> = OnceLock::new();
    ROOT.get_or_init(TrustedRoot::public_good)
}

fuzz_target!(|data: &[u8]| {
    let dist = DistFile::from_bytes("pypi_attestations-0.0.19.tar.gz", b"not the real bytes");
    let report = verify_provenance(data, &dist, root());
    let _ = (report.all_verified(), report.publisher(), report.failures());
    let publisher = TrustedPublisher::GitHub {
        repository: "trailofbits/pypi-attestations".into(),
        workflow: "release.yml".into(),
        environment: None,
    };
    let one = verify_attestation(data, &dist, root(), Some(&publisher));
    // The distribution bytes are not the attested ones: nothing may ever verify.
    assert!(!report.all_verified() && !one.is_verified());
});
