//! Operator commands that work on the data itself rather than serve it: `nexus backup`
//! ([`backup`]) and `nexus restore` ([`restore`]). The archive they share, its manifest
//! and its checks are in [`archive`]. `main.rs` only parses the command line and
//! dispatches here.

pub mod archive;
pub mod backup;
pub mod restore;

/// The command refused to act and changed nothing (e.g. `restore` into a data folder that
/// is not empty): `nexus` exits with [`Refused::EXIT_CODE`] so scripts can tell it from a
/// failure.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

impl Refused {
    pub const EXIT_CODE: u8 = 3;
}
