//! Optional protection of the scrape endpoint and the live page: HTTP basic auth or a bearer
//! token, compared in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderValue;
use subtle::ConstantTimeEq;

/// Credentials a scraper must present.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// HTTP basic auth (RFC 7617).
    Basic {
        /// User name; must not contain `:`.
        user: String,
        /// Password.
        password: String,
    },
    /// `Authorization: Bearer <token>` (RFC 6750).
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        match self {
            Self::Basic { user, .. } => f
                .debug_struct("Basic")
                .field("user", user)
                .finish_non_exhaustive(),
            Self::Bearer(_) => f.write_str("Bearer(..)"),
        }
    }
}

/// Why a request was turned away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Denied {
    /// No `Authorization` header, or one of another scheme.
    Missing,
    /// A header of the right scheme that cannot be decoded.
    Malformed,
    /// Well-formed credentials that do not match.
    Wrong,
}

const REALM: &str = "metrics";

impl Auth {
    /// Checks an `Authorization` header value.
    pub(crate) fn check(&self, header: Option<&HeaderValue>) -> Result<(), Denied> {
        let header = header.ok_or(Denied::Missing)?;
        let header = header.to_str().map_err(|_| Denied::Malformed)?.trim();
        let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
        let rest = rest.trim();
        match self {
            Self::Basic { user, password } => {
                if !scheme.eq_ignore_ascii_case("basic") {
                    return Err(Denied::Missing);
                }
                let decoded = STANDARD.decode(rest).map_err(|_| Denied::Malformed)?;
                let colon = decoded
                    .iter()
                    .position(|b| *b == b':')
                    .ok_or(Denied::Malformed)?;
                let (given_user, given_password) = (&decoded[..colon], &decoded[colon + 1..]);
                // Compare both parts even when the first differs.
                let ok =
                    given_user.ct_eq(user.as_bytes()) & given_password.ct_eq(password.as_bytes());
                if bool::from(ok) {
                    Ok(())
                } else {
                    Err(Denied::Wrong)
                }
            }
            Self::Bearer(token) => {
                if !scheme.eq_ignore_ascii_case("bearer") {
                    return Err(Denied::Missing);
                }
                if rest.is_empty() || rest.contains(' ') {
                    return Err(Denied::Malformed);
                }
                if bool::from(rest.as_bytes().ct_eq(token.as_bytes())) {
                    Ok(())
                } else {
                    Err(Denied::Wrong)
                }
            }
        }
    }

    /// The `WWW-Authenticate` challenge sent with a 401 for `denied`.
    pub(crate) fn challenge(&self, denied: Denied) -> HeaderValue {
        let text = match (self, denied) {
            (Self::Basic { .. }, _) => format!("Basic realm=\"{REALM}\", charset=\"UTF-8\""),
            (Self::Bearer(_), Denied::Missing) => format!("Bearer realm=\"{REALM}\""),
            (Self::Bearer(_), Denied::Malformed) => {
                format!("Bearer realm=\"{REALM}\", error=\"invalid_request\"")
            }
            (Self::Bearer(_), Denied::Wrong) => {
                format!("Bearer realm=\"{REALM}\", error=\"invalid_token\"")
            }
        };
        HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("Basic"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic() -> Auth {
        Auth::Basic {
            user: "prom".into(),
            password: "s3cr:et".into(),
        }
    }

    fn header(s: &str) -> HeaderValue {
        HeaderValue::from_str(s).unwrap()
    }

    #[test]
    fn basic_credentials_are_decoded_and_compared() {
        let good = format!("Basic {}", STANDARD.encode("prom:s3cr:et"));
        assert_eq!(basic().check(Some(&header(&good))), Ok(()));
        let lower = format!("basic {}", STANDARD.encode("prom:s3cr:et"));
        assert_eq!(basic().check(Some(&header(&lower))), Ok(()));
        let wrong = format!("Basic {}", STANDARD.encode("prom:nope"));
        assert_eq!(basic().check(Some(&header(&wrong))), Err(Denied::Wrong));
        let no_colon = format!("Basic {}", STANDARD.encode("prom"));
        assert_eq!(
            basic().check(Some(&header(&no_colon))),
            Err(Denied::Malformed)
        );
        assert_eq!(
            basic().check(Some(&header("Basic %%%"))),
            Err(Denied::Malformed)
        );
        assert_eq!(
            basic().check(Some(&header("Bearer abc"))),
            Err(Denied::Missing)
        );
        assert_eq!(basic().check(None), Err(Denied::Missing));
    }

    #[test]
    fn bearer_tokens_are_compared() {
        let auth = Auth::Bearer("tok".into());
        assert_eq!(auth.check(Some(&header("Bearer tok"))), Ok(()));
        assert_eq!(auth.check(Some(&header("Bearer tok2"))), Err(Denied::Wrong));
        assert_eq!(auth.check(Some(&header("Bearer"))), Err(Denied::Malformed));
        assert_eq!(
            auth.check(Some(&header("Bearer a b"))),
            Err(Denied::Malformed)
        );
        assert!(
            auth.challenge(Denied::Wrong)
                .to_str()
                .unwrap()
                .contains("invalid_token")
        );
    }

    #[test]
    fn debug_output_hides_secrets() {
        let shown = format!("{:?} {:?}", basic(), Auth::Bearer("tok-123".into()));
        assert!(
            !shown.contains("s3cr") && !shown.contains("tok-123"),
            "{shown}"
        );
    }
}
