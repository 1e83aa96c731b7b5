//! `#[derive(ErrorKind)]`: kinds from variant names or `#[error_kind("..")]`, and the caller's
//! fault from `#[error_kind(caller)]`.

use mcp_metrics::{ErrorKind, Fault};

#[derive(Debug, ErrorKind)]
#[allow(dead_code)]
enum LookupError {
    #[error_kind(caller)]
    NotFound,
    #[error_kind("bad_query", caller)]
    InvalidQuery {
        reason: String,
    },
    #[error_kind(caller, "too_many")]
    TooMany(u32),
    #[error_kind("upstream")]
    Backend(u16),
    Timeout,
}

fn fault_of(error: impl ErrorKind) -> Fault {
    error.fault()
}

#[test]
fn caller_variants_are_the_clients_fault() {
    let cases = [
        (LookupError::NotFound, "not_found", Fault::Client),
        (
            LookupError::InvalidQuery {
                reason: "empty".into(),
            },
            "bad_query",
            Fault::Client,
        ),
        (LookupError::TooMany(3), "too_many", Fault::Client),
        (LookupError::Backend(502), "upstream", Fault::Server),
        (LookupError::Timeout, "timeout", Fault::Server),
    ];
    for (error, kind, fault) in cases {
        assert_eq!(error.error_kind(), kind, "{error:?}");
        assert_eq!(error.fault(), fault, "{error:?}");
        // through references and boxes, as classification sees them
        assert_eq!(fault_of(&error), fault);
        assert_eq!(fault_of(Box::new(error)), fault);
    }
}

#[derive(Debug, ErrorKind)]
#[error_kind(caller)]
struct QuotaExceeded;

#[derive(Debug, ErrorKind)]
#[error_kind("rejected", caller)]
struct Rejected<T>(#[allow(dead_code)] T);

#[derive(Debug, ErrorKind)]
struct DiskFull;

#[test]
fn caller_structs_are_the_clients_fault() {
    assert_eq!(QuotaExceeded.error_kind(), "quota_exceeded");
    assert_eq!(QuotaExceeded.fault(), Fault::Client);
    assert_eq!(Rejected(1u8).error_kind(), "rejected");
    assert_eq!(Rejected("x").fault(), Fault::Client);
    assert_eq!(DiskFull.error_kind(), "disk_full");
    assert_eq!(DiskFull.fault(), Fault::Server);
}

/// Every variant the caller's: no wildcard arm is generated, so no `unreachable_patterns`.
#[deny(unreachable_patterns)]
mod all_caller {
    #[derive(Debug, mcp_metrics::ErrorKind)]
    pub(crate) enum InputError {
        #[error_kind(caller)]
        Missing,
        #[error_kind(caller)]
        Malformed,
    }
}

#[test]
fn an_enum_of_only_caller_variants() {
    use all_caller::InputError;
    assert_eq!(InputError::Missing.fault(), Fault::Client);
    assert_eq!(InputError::Malformed.fault(), Fault::Client);
}

/// No variant: the kind is a `match` on nothing, and `fault` keeps the default.
#[derive(Debug, ErrorKind)]
#[allow(dead_code)]
enum Never {}
