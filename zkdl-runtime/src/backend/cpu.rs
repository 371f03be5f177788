//! The cpu backend: the host's rayon code, which is every [`Backend`](crate::crypto::device::Backend)
//! method's default (in [`crate::crypto::device`]) and the reference the device backends are tested
//! against.

pub use crate::crypto::device::Host as Cpu;
