//! The go-plugin start-up contract: the magic cookie, protocol version negotiation, the
//! port range and the handshake line on stdout.
//!
//! Owns the pure decisions (from environment values to a result) so they can be tested
//! without starting a process.

use std::fmt;

/// The cookie Terraform sets for its plugins.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// Its value.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's core protocol version (first field of the handshake line).
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Terraform plugin protocol major version served.
pub const PROTOCOL_VERSION: u32 = 6;

/// What is printed when the binary is started by hand.
pub const NOT_BY_HAND: &str = "This binary is a plugin. These are not meant to be executed directly.\n\
Please execute the program that consumes these plugins, which will\n\
load any plugins automatically.\n\n\
terraform-provider-queuescale is a Terraform provider: Terraform starts it. To use it, \
declare it in a configuration's required_providers block and run terraform init. \
For debugging, run it with --debug and follow the instructions it prints.";

/// A start-up condition that makes the plugin refuse to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    /// The cookie is missing or wrong: not started by Terraform.
    NotTerraform,
    /// Terraform offers no protocol version this plugin serves.
    NoCommonVersion(String),
    /// `PLUGIN_MIN_PORT`/`PLUGIN_MAX_PORT` are not a usable range.
    BadPortRange(String),
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::NotTerraform => f.write_str(NOT_BY_HAND),
            HandshakeError::NoCommonVersion(offered) => write!(
                f,
                "Terraform offered plugin protocol versions {offered:?}, but this provider \
                 speaks only version {PROTOCOL_VERSION} (Terraform 1.0 or newer)."
            ),
            HandshakeError::BadPortRange(why) => write!(f, "invalid plugin port range: {why}"),
        }
    }
}

impl std::error::Error for HandshakeError {}

/// Checks the magic cookie.
///
/// # Errors
/// [`HandshakeError::NotTerraform`] when it is missing or wrong.
pub fn check_cookie(value: Option<&str>) -> Result<(), HandshakeError> {
    if value == Some(MAGIC_COOKIE_VALUE) {
        Ok(())
    } else {
        Err(HandshakeError::NotTerraform)
    }
}

/// Picks the protocol version from `PLUGIN_PROTOCOL_VERSIONS` (comma-separated, any
/// order). Unset means the client accepts the server's default, as in go-plugin.
///
/// # Errors
/// [`HandshakeError::NoCommonVersion`] when version 6 is not offered.
pub fn negotiate_version(offered: Option<&str>) -> Result<u32, HandshakeError> {
    let Some(offered) = offered.filter(|s| !s.trim().is_empty()) else {
        return Ok(PROTOCOL_VERSION);
    };
    let ours = offered
        .split(',')
        .filter_map(|v| v.trim().parse::<u32>().ok())
        .any(|v| v == PROTOCOL_VERSION);
    if ours {
        Ok(PROTOCOL_VERSION)
    } else {
        Err(HandshakeError::NoCommonVersion(offered.to_owned()))
    }
}

/// The inclusive port range from `PLUGIN_MIN_PORT` / `PLUGIN_MAX_PORT` (go-plugin's
/// defaults 10000 and 25000 when unset).
///
/// # Errors
/// [`HandshakeError::BadPortRange`] for non-numbers, zero or min > max.
pub fn port_range(min: Option<&str>, max: Option<&str>) -> Result<(u16, u16), HandshakeError> {
    let parse = |v: Option<&str>, default: u16, name: &str| match v.filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => s
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| HandshakeError::BadPortRange(format!("{name}={s:?}"))),
    };
    let lo = parse(min, 10000, "PLUGIN_MIN_PORT")?;
    let hi = parse(max, 25000, "PLUGIN_MAX_PORT")?;
    if lo > hi {
        return Err(HandshakeError::BadPortRange(format!("{lo} > {hi}")));
    }
    Ok((lo, hi))
}

/// The line announcing where to connect: `1|6|tcp|127.0.0.1:PORT|grpc|CERT`. With TLS
/// disabled the certificate field is empty (the line still has six fields).
pub fn handshake_line(addr: &std::net::SocketAddr, cert_base64: Option<&str>) -> String {
    format!(
        "{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|tcp|{addr}|grpc|{}",
        cert_base64.unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_must_match_exactly() {
        assert!(check_cookie(Some(MAGIC_COOKIE_VALUE)).is_ok());
        assert_eq!(check_cookie(None), Err(HandshakeError::NotTerraform));
        assert_eq!(
            check_cookie(Some("nope")),
            Err(HandshakeError::NotTerraform)
        );
    }

    #[test]
    fn version_six_is_chosen_in_any_order() {
        assert_eq!(negotiate_version(Some("5,6")), Ok(6));
        assert_eq!(negotiate_version(Some("6, 5")), Ok(6));
        assert_eq!(negotiate_version(None), Ok(6));
        assert!(matches!(
            negotiate_version(Some("4,5")),
            Err(HandshakeError::NoCommonVersion(_))
        ));
    }

    #[test]
    fn port_range_defaults_and_rejects_nonsense() {
        assert_eq!(port_range(None, None), Ok((10000, 25000)));
        assert_eq!(port_range(Some("20000"), Some("20010")), Ok((20000, 20010)));
        assert!(port_range(Some("x"), None).is_err());
        assert!(port_range(Some("30000"), Some("20000")).is_err());
        assert!(port_range(Some("0"), None).is_err());
    }

    #[test]
    fn handshake_line_has_six_fields() {
        let addr = "127.0.0.1:12345".parse().unwrap();
        assert_eq!(
            handshake_line(&addr, Some("QUJD")),
            "1|6|tcp|127.0.0.1:12345|grpc|QUJD"
        );
        assert_eq!(handshake_line(&addr, None).split('|').count(), 6);
    }

    #[test]
    fn refusal_message_says_this_is_a_terraform_plugin() {
        let msg = HandshakeError::NotTerraform.to_string();
        assert!(msg.contains("plugin") && msg.contains("Terraform"));
    }
}
