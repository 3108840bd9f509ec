//! The acceptance harness: Terraform binaries, work dirs, and (for AWS-backed tests) the
//! emulator and AWS checks.

#![allow(dead_code)]

pub mod terraform;

/// One acceptance scenario, run once per Terraform version.
pub struct Case {
    /// Name (read as a sentence; the Terraform version is appended).
    pub name: &'static str,
    /// The scenario.
    pub run: fn(&terraform::TerraformBin),
    /// Lowest Terraform version the scenario needs.
    pub min_version: (u32, u32, u32),
}

impl Case {
    /// A scenario for every supported Terraform version.
    pub const fn new(name: &'static str, run: fn(&terraform::TerraformBin)) -> Case {
        Case {
            name,
            run,
            min_version: (1, 0, 0),
        }
    }

    /// A scenario that needs at least `version` (e.g. provider functions need 1.8).
    pub const fn since(mut self, version: (u32, u32, u32)) -> Case {
        self.min_version = version;
        self
    }
}
