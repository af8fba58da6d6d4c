//! `trust.*`: the strongest publish evidence of this version against the earlier ones, as pnpm
//! ranks it, and whether it fell.

use chrono::{DateTime, Utc};
use nodejs_semver::Version;

use super::packument::VersionDoc;
use super::publish::{listed_provenance, trusted_publisher};
use super::{publish_time, DeriveInput, RegistryShape};
use crate::facts::{Fact, TrustFacts};

const LEVELS: [&str; 3] = ["none", "provenance", "trusted-publisher"];

/// The possible trust ranks of one version as (lowest, highest): a single value when the
/// evidence is known, a range when part of it is missing. A mirror that hides `_npmUser` leaves
/// "provenance or trusted publisher" open, which is still enough to decide some comparisons.
fn trust_bounds(
    input: &DeriveInput<'_>,
    doc: &VersionDoc,
    shape: &RegistryShape,
) -> (u64, u64, Option<String>) {
    let trusted = trusted_publisher(doc, input.registry);
    let listed = listed_provenance(input, doc, shape);
    let reason = match (&trusted, &listed) {
        (Fact::Unknown { reason }, _) | (_, Fact::Unknown { reason }) => Some(reason.clone()),
        _ => None,
    };
    let (lo, hi) = match (trusted, listed) {
        (Fact::Known(Some(_)), _) => (2, 2),
        (Fact::Known(None), Fact::Known(true)) => (1, 1),
        (Fact::Known(None), Fact::Known(false)) => (0, 0),
        (Fact::Known(None), Fact::Unknown { .. }) => (0, 1),
        (Fact::Unknown { .. }, Fact::Known(true)) => (1, 2),
        (Fact::Unknown { .. }, _) => (0, 2),
    };
    (lo, hi, if lo == hi { None } else { reason })
}

pub(super) fn trust_facts(
    input: &DeriveInput<'_>,
    doc: &VersionDoc,
    published_at: Option<&DateTime<Utc>>,
    shape: &RegistryShape,
) -> TrustFacts {
    let (lo, hi, why) = trust_bounds(input, doc, shape);
    let rank = match &why {
        None => Fact::Known(lo),
        Some(reason) => Fact::unknown(reason),
    };
    let window = chrono::Duration::days(input.trust_window_days as i64);
    let no_time = "the packument has no publish time for this version";
    let mut f = TrustFacts {
        level: rank.map(|r| LEVELS[*r as usize].to_string()),
        rank,
        earlier_best_level: Fact::unknown(no_time),
        earlier_best_rank: Fact::unknown(no_time),
        earlier_best_version: None,
        window_days: input.trust_window_days,
        downgrade: Fact::unknown(no_time),
    };
    let (Some(me), Some(this)) = (published_at, Version::parse(input.version).ok()) else {
        return f;
    };
    // The best earlier rank is a range too when some earlier versions are only partly known.
    let mut best_lo: Option<(u64, DateTime<Utc>, String)> = None;
    let mut best_hi = 0u64;
    let mut earlier_reason = None;
    for (v, vdoc) in input.packument.versions.iter() {
        let Ok(parsed) = Version::parse(v) else {
            continue;
        };
        let Some(t) = publish_time(input.packument, v) else {
            continue;
        };
        if parsed.is_prerelease() || parsed.major() != this.major() || t >= *me || *me - t > window
        {
            continue;
        }
        let (vlo, vhi, vwhy) = trust_bounds(input, vdoc, shape);
        best_hi = best_hi.max(vhi);
        if vwhy.is_some() {
            earlier_reason = vwhy;
        }
        if best_lo.as_ref().is_none_or(|b| (vlo, t) > (b.0, b.1)) {
            best_lo = Some((vlo, t, v.to_string()));
        }
    }
    // Nothing earlier in the window: there is nothing to fall from.
    let (blo, bversion) = match best_lo {
        Some((r, _, v)) => (r, Some(v)),
        None => (0, None),
    };
    f.earlier_best_version = bversion;
    if blo == best_hi {
        f.earlier_best_rank = Fact::Known(blo);
        f.earlier_best_level = Fact::Known(LEVELS[blo as usize].to_string());
    } else {
        let reason = earlier_reason
            .clone()
            .unwrap_or_else(|| "earlier publish evidence is incomplete".into());
        f.earlier_best_rank = Fact::unknown(&reason);
        f.earlier_best_level = Fact::unknown(&reason);
    }
    // A downgrade when even the best this version could be is below the least the best earlier
    // release could be; none when even its least reaches the most the earlier ones could be.
    f.downgrade = if hi < blo {
        Fact::Known(true)
    } else if lo >= best_hi {
        Fact::Known(false)
    } else {
        Fact::unknown(
            why.or(earlier_reason)
                .unwrap_or_else(|| "the publish evidence is incomplete".into()),
        )
    };
    f
}

#[cfg(test)]
mod tests {
    use crate::facts::{Fact, PackageFacts};
    use serde_json::{json, Value};

    fn facts(p: &Value, version: &str) -> PackageFacts {
        super::super::test_support::derive(p, version, "version")
    }

    fn packument(latest_user: Value) -> Value {
        let oidc = json!({"name": "GitHub Actions", "trustedPublisher": {"id": "github"}});
        json!({
            "name": "x",
            "time": {"1.0.0": "2026-01-01T00:00:00Z", "1.1.0": "2026-06-01T00:00:00Z",
                     "0.9.0": "2025-01-01T00:00:00Z"},
            "versions": {
                "0.9.0": {"_npmUser": {"name": "alice"}},
                "1.0.0": {"_npmUser": oidc},
                "1.1.0": {"_npmUser": latest_user}
            }
        })
    }

    #[test]
    fn downgrade_is_decided_even_when_attestations_are_hidden() {
        // No version carries signatures or attestations (a mirror), so "provenance listed" is
        // unknown; but a human publisher after a trusted-publisher release is a downgrade
        // whichever way that unknown falls.
        let f = facts(&packument(json!({"name": "mallory"})), "1.1.0");
        assert!(matches!(f.trust.level, Fact::Unknown { .. }));
        assert_eq!(
            f.trust.earlier_best_level,
            Fact::Known("trusted-publisher".into())
        );
        assert_eq!(f.trust.earlier_best_version.as_deref(), Some("1.0.0"));
        assert_eq!(f.trust.downgrade, Fact::Known(true));
        // The same release through trusted publishing: known not to be a downgrade.
        let oidc = json!({"name": "GitHub Actions", "trustedPublisher": {"id": "github"}});
        let f = facts(&packument(oidc), "1.1.0");
        assert_eq!(f.trust.downgrade, Fact::Known(false));
        // Another major line is not compared: 0.9.0 (major 0) is not an earlier release of 1.x.
        let f = facts(&packument(json!({"name": "mallory"})), "1.0.0");
        assert_eq!(f.trust.downgrade, Fact::Known(false));
        assert_eq!(f.trust.earlier_best_version, None);
    }
}
