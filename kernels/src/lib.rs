//! The kernels of zkdl's GPU backends, written once in C and compiled at run time two ways: as
//! CUDA C++ by NVRTC (through cudarc, with dynamic loading, so no build needs a CUDA toolkit) and as
//! OpenCL C 1.2 by an OpenCL driver (PoCL runs them on the CPU in CI).
//!
//! Each source is a string. [`program`] concatenates the prelude (`cl/prelude.h`: the macros that
//! map one dialect onto the other), the arithmetic headers and the kernel files into one
//! translation unit: neither compiler is given an include path.
//!
//! - `cl/fr.h`: the scalar field Fr of BLS12-381 in ark-ff's Montgomery limb layout.
//! - `cl/fq.h`: the base field Fq, the same way with six limbs.
//! - `cl/g1.h`: G1 points in XYZZ coordinates: addition, mixed addition of an affine point,
//!   doubling, the point at infinity.
//! - `cl/sumcheck.cl`: eq tables, binding a leading variable, and the round values of a sumcheck
//!   whose summand is a sum of product terms (`zkdl_runtime::crypto::sumcheck`).
//! - `cl/bits.cl`: the bit relation's rounds on packed bits and the tables they leave
//!   (`zkdl_runtime::proof::binary`).
//! - `cl/commit.cl`: commitments to rows of bits (subset sums of the generators, by byte tables for
//!   many rows), multi-scalar multiplications by signed-digit buckets (the commitments to integers and
//!   field elements, the openings' MSMs), and the openings' generator fold.

/// The macros that make one source both CUDA C++ and OpenCL C.
pub const PRELUDE: &str = include_str!("cl/prelude.h");
/// Fr arithmetic.
pub const FR: &str = include_str!("cl/fr.h");
/// Fq arithmetic.
pub const FQ: &str = include_str!("cl/fq.h");
/// G1 arithmetic (needs [`FQ`]).
pub const G1: &str = include_str!("cl/g1.h");
/// The sumcheck kernels (need [`FR`]).
pub const SUMCHECK: &str = include_str!("cl/sumcheck.cl");
/// The bit relation's kernels (need [`FR`] and [`SUMCHECK`]).
pub const BITS: &str = include_str!("cl/bits.cl");
/// The commitment kernels (need [`FQ`] and [`G1`]).
pub const COMMIT: &str = include_str!("cl/commit.cl");

/// A program of zkdl's kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// Field kernels: [`FR`], [`SUMCHECK`] and [`BITS`].
    Field,
    /// Group kernels: [`FQ`], [`G1`] and [`COMMIT`].
    Group,
}

impl Program {
    /// Every program.
    pub const ALL: [Program; 2] = [Program::Field, Program::Group];

    /// The program's name, for logs and compiler errors.
    pub fn name(self) -> &'static str {
        match self {
            Program::Field => "field",
            Program::Group => "group",
        }
    }

    /// The program's parts, in order.
    pub fn parts(self) -> &'static [&'static str] {
        match self {
            Program::Field => &[PRELUDE, FR, SUMCHECK, BITS],
            Program::Group => &[PRELUDE, FQ, G1, COMMIT],
        }
    }

    /// The whole source, one translation unit.
    pub fn source(self) -> String {
        self.parts().join("\n")
    }
}
