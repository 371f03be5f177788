//! An on-disk cache of the column generators, checked against digests compiled into the binary.
//!
//! Deriving `2^c` generators hashes as many points to the curve (seconds for the paper network's
//! `c = 14`, a minute or more at `c = 20`), while reading them back is a file read and a SHA-256.
//! The file of the key for `2^c` columns is `<cache dir>/zkdl/generators-<c>.bin` (the cache dir is
//! `$ZKDL_CACHE_DIR`, else `$XDG_CACHE_HOME`, else `$HOME/.cache`) and holds the canonical
//! serialization of `g_0 … g_{2^c − 1}`: each point uncompressed (96 bytes, arkworks' encoding), in
//! order, nothing else. A file is used only if its SHA-256 equals [`GENERATOR_DIGESTS`]`[c]`, and only
//! then is it deserialized, without the on-curve and subgroup checks (the digest already pins every
//! byte to the derived points). A missing, short, corrupted or unreadable file, or a `c` beyond the
//! table, means the key is derived as without a cache; the derived key is then written (to a
//! temporary name in the same directory, renamed into place) where the table can check it later.
//! Failing to write is not an error.
//!
//! A smaller cached key is a prefix of a larger one (`g_j` depends only on `j`), so deriving the key
//! for `c` starts from the largest valid cached key below it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::hash_to_curve::derive_generators;
use crate::G1Affine;

/// Bytes of one generator in the cache file (uncompressed).
pub const POINT_BYTES: usize = 96;

/// `GENERATOR_DIGESTS[c]`: the SHA-256 of the canonical serialization of `g_0 … g_{2^c − 1}`, as
/// lowercase hex. Covers every key the compiler can ask for (a committed tensor has at most 2^40
/// entries, hence at most 20 column variables). `tests::generator_digest_table_matches_derivation`
/// rederives the entries up to `c = 12`; `cargo run --release --example generator_digests -- 20`
/// prints them all.
pub const GENERATOR_DIGESTS: [&str; 21] = [
    "51c7add745ce7b3a64202d3fa1a48de49d7c5098d3664b0611bf5fe9c0d47124", // c = 0
    "3cda0defe80c53e55e614a98bd21d1d995beebc47d57447267ef4f7bb465bf4a", // c = 1
    "cf6e009bd181c6038b64de89460f88233bca8f7a5e78dd1101f4ced4665a15c6", // c = 2
    "ebd7487d335a5a975b7a47a9390a5fea568d4dc299de737a49f2a9a81589cb15", // c = 3
    "fb9cbd7b6ca352df1558db8b151f9c8f1e5be9d13e19ddbcdb70718d53eab51f", // c = 4
    "7ecc961fe94865c69a05b29df83d765cbe0172d503adcb23c203ba8f2fe31938", // c = 5
    "23f091a1acc30cf5f5b2cae3298769dc31545d44c6965d46fbead128890f3627", // c = 6
    "618e8ee068995c5b175da8b22de01494f304e574c0cba913d8a58d10e6e31a7f", // c = 7
    "e76d9005048473786a5a7db503a0a6bc0324ff86dfe8cf8515365bcc70205aac", // c = 8
    "3a16c1ea32d1d2f714ac3d8736d575b3c9c55515de6595b7e3fd342f6ccab6a0", // c = 9
    "78762cc0a51005aa190544cf56a00ff9647406d880813b1ee0284f3b3ed2d77d", // c = 10
    "f82cd63f1bcf903842ee52aa9dd3a70a71c310388c4bc02d90de91a350ea428e", // c = 11
    "27e457d8a2c03534ced76bba0dff1cb44802aadeaae79d6c30a85116772a0cd8", // c = 12
    "0f72d1f53f0f87efe7edb2843f12fa51ea598cd7fa0f8eda125fabb766f7c9a8", // c = 13
    "b41f1944391683d8216cc09c9ac6f78867964e799031660671052fb2e99389d7", // c = 14
    "b61f59f517344aa3f2f3c94752ef7916d6026c5ee0461b0fb51c76992e11e489", // c = 15
    "c589af40d46f73d64e34c9ff1bde86f1f00dd261f83df8c1bfb7ab056e3e6f27", // c = 16
    "41b1e158bfdfa1acba388726a7019938039da94c0f71e3132db17ef6906a3a95", // c = 17
    "6b57bcf3b9a3ac0ea3233bcf3f05d2fe5c609007f00e1b7fb9b984c9b2e07093", // c = 18
    "3168ecab21d9d461745aca6d2118bf87361f5a8f2897f5044cc2e6319b0afc57", // c = 19
    "4e600043f187afd8d91c3d4e064fe5057225e93b7d033a36a6750b965998adbd", // c = 20
];

/// Where the key came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// Read from a cache file whose digest matched.
    Cache,
    /// Derived (after `prefix` generators read from a smaller cached key); `written` tells whether
    /// the cache file was written.
    Derived { prefix: usize, written: bool },
}

/// The cache directory: `$ZKDL_CACHE_DIR`, else `$XDG_CACHE_HOME`, else `$HOME/.cache`, each
/// followed by `zkdl` (empty or relative values are ignored).
pub fn cache_dir() -> Option<PathBuf> {
    let absolute = |name: &str| std::env::var_os(name).map(PathBuf::from).filter(|p| p.is_absolute());
    absolute("ZKDL_CACHE_DIR")
        .or_else(|| absolute("XDG_CACHE_HOME"))
        .or_else(|| absolute("HOME").map(|home| home.join(".cache")))
        .map(|dir| dir.join("zkdl"))
}

/// The cache file of the key for `2^log_cols` columns in `dir`.
pub fn cache_file(dir: &Path, log_cols: u32) -> PathBuf {
    dir.join(format!("generators-{log_cols}.bin"))
}

/// The canonical serialization of generators: each uncompressed, in order.
pub fn serialize_generators(generators: &[G1Affine]) -> Vec<u8> {
    let mut bytes = vec![0u8; generators.len() * POINT_BYTES];
    bytes.par_chunks_mut(POINT_BYTES).zip(generators).for_each(|(out, g)| {
        g.serialize_uncompressed(out).expect("a point fits its 96 bytes");
    });
    bytes
}

/// Lowercase hex of the SHA-256 of `bytes`.
fn sha256_hex(bytes: &[u8]) -> String {
    crate::files::hex(&Sha256::digest(bytes))
}

/// The digest of generators as in [`GENERATOR_DIGESTS`].
pub fn generators_digest(generators: &[G1Affine]) -> String {
    sha256_hex(&serialize_generators(generators))
}

/// The compiled-in digest of the key for `2^log_cols` columns, if the table has one.
fn expected_digest(log_cols: u32) -> Option<&'static str> {
    GENERATOR_DIGESTS.get(log_cols as usize).copied().filter(|d| !d.is_empty())
}

/// The cached key for `2^log_cols` columns in `dir`, if its file is there and its digest matches the
/// table.
pub fn load(dir: &Path, log_cols: u32) -> Option<Vec<G1Affine>> {
    let expected = expected_digest(log_cols)?;
    let bytes = fs::read(cache_file(dir, log_cols)).ok()?;
    if bytes.len() != POINT_BYTES << log_cols || sha256_hex(&bytes) != expected {
        return None;
    }
    // The digest pins these bytes to the derived points: no curve or subgroup checks needed.
    bytes
        .par_chunks(POINT_BYTES)
        .map(|chunk| G1Affine::deserialize_with_mode(chunk, Compress::No, Validate::No).ok())
        .collect()
}

/// Writes the key for `2^log_cols` columns to `dir` atomically (a temporary file in `dir`, renamed
/// into place).
pub fn store(dir: &Path, log_cols: u32, generators: &[G1Affine]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let target = cache_file(dir, log_cols);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let temporary = dir.join(format!(".generators-{log_cols}.bin.{}-{nanos}.tmp", std::process::id()));
    let written = (|| {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(&serialize_generators(generators))?;
        file.sync_all()?;
        fs::rename(&temporary, &target)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// The generators of the key for `2^log_cols` columns: from the cache in `dir` if a valid file is
/// there, else derived (continuing the largest valid smaller cached key) and, where the table can
/// check it later, written to the cache. Never fails: without a usable cache it derives.
pub fn load_or_derive(dir: Option<&Path>, log_cols: u32) -> (Vec<G1Affine>, KeySource) {
    let Some(dir) = dir else {
        return (derive_generators(0, 1 << log_cols), KeySource::Derived { prefix: 0, written: false });
    };
    if let Some(generators) = load(dir, log_cols) {
        return (generators, KeySource::Cache);
    }
    let mut generators = (0..log_cols).rev().find_map(|c| load(dir, c)).unwrap_or_default();
    let prefix = generators.len();
    generators.extend(derive_generators(prefix as u64, 1 << log_cols));
    let written = expected_digest(log_cols).is_some() && store(dir, log_cols, &generators).is_ok();
    (generators, KeySource::Derived { prefix, written })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::commitment::CommitmentKey;

    /// A fresh empty directory under the system's temporary directory.
    fn scratch_dir(name: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("zkdl-key-cache-{name}-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn generator_digest_table_matches_derivation() {
        const CHECKED: u32 = 12;
        let generators = derive_generators(0, 1 << CHECKED);
        for c in 0..=CHECKED {
            assert_eq!(generators_digest(&generators[..1 << c]), GENERATOR_DIGESTS[c as usize], "c = {c}");
        }
        assert!(GENERATOR_DIGESTS.iter().all(|d| d.len() == 64), "the table covers every c ≤ 20");
    }

    #[test]
    fn cached_key_round_trips_and_equals_the_derived_key() {
        let dir = scratch_dir("round-trip");
        let derived = CommitmentKey::new(6);
        let (first, source) = CommitmentKey::cached_in(Some(&dir), 6);
        assert_eq!(source, KeySource::Derived { prefix: 0, written: true });
        assert!(cache_file(&dir, 6).exists());
        let (second, source) = CommitmentKey::cached_in(Some(&dir), 6);
        assert_eq!(source, KeySource::Cache);
        assert_eq!(first.generators(), derived.generators());
        assert_eq!(second.generators(), derived.generators());
        assert_eq!(second.blinding_generator(), derived.blinding_generator());
        assert_eq!(second.inner_product_generator(), derived.inner_product_generator());
        // No temporary files left behind.
        let names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("generators-6.bin")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn corrupted_cache_files_are_ignored() {
        let dir = scratch_dir("corrupted");
        let expected = derive_generators(0, 1 << 5);
        store(&dir, 5, &expected).unwrap();
        let path = cache_file(&dir, 5);
        let good = fs::read(&path).unwrap();
        assert_eq!(load(&dir, 5).as_deref(), Some(expected.as_slice()));

        let mut flipped = good.clone();
        flipped[good.len() / 2] ^= 0x01;
        let mut appended = good.clone();
        appended.push(0);
        for bad in [flipped, good[..good.len() - 1].to_vec(), good[..POINT_BYTES].to_vec(), Vec::new(), appended] {
            fs::write(&path, &bad).unwrap();
            assert_eq!(load(&dir, 5), None);
            let (key, source) = CommitmentKey::cached_in(Some(&dir), 5);
            assert_eq!(source, KeySource::Derived { prefix: 0, written: true }, "nothing smaller is cached");
            assert_eq!(key.generators(), expected.as_slice());
            // The derived key replaced the bad file.
            assert_eq!(fs::read(&path).unwrap(), good);
        }
        // A file of the right digest but another size's name is not taken for it.
        fs::write(cache_file(&dir, 4), &good).unwrap();
        assert_eq!(load(&dir, 4), None);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_smaller_cached_key_is_extended() {
        let dir = scratch_dir("prefix");
        store(&dir, 3, &derive_generators(0, 8)).unwrap();
        let (key, source) = CommitmentKey::cached_in(Some(&dir), 6);
        assert_eq!(source, KeySource::Derived { prefix: 8, written: true });
        assert_eq!(key.generators(), derive_generators(0, 64).as_slice());
        // A corrupted prefix is not used.
        let mut bytes = fs::read(cache_file(&dir, 3)).unwrap();
        bytes[0] ^= 0x80;
        fs::write(cache_file(&dir, 3), bytes).unwrap();
        let (key, source) = CommitmentKey::cached_in(Some(&dir), 5);
        assert_eq!(source, KeySource::Derived { prefix: 0, written: true });
        assert_eq!(key.generators(), derive_generators(0, 32).as_slice());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unwritable_cache_still_gives_the_key() {
        let dir = scratch_dir("unwritable");
        // The cache "directory" is a regular file: nothing can be read or written under it.
        let blocked = dir.join("not-a-directory");
        fs::write(&blocked, b"x").unwrap();
        let (key, source) = CommitmentKey::cached_in(Some(&blocked), 4);
        assert_eq!(source, KeySource::Derived { prefix: 0, written: false });
        assert_eq!(key.generators(), derive_generators(0, 16).as_slice());
        // Without a cache directory at all.
        let (key, source) = CommitmentKey::cached_in(None, 4);
        assert_eq!(source, KeySource::Derived { prefix: 0, written: false });
        assert_eq!(key.generators(), derive_generators(0, 16).as_slice());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn keys_beyond_the_table_are_derived_and_not_written() {
        let dir = scratch_dir("beyond");
        assert_eq!(expected_digest(GENERATOR_DIGESTS.len() as u32), None);
        assert_eq!(load(&dir, GENERATOR_DIGESTS.len() as u32), None);
        fs::remove_dir_all(&dir).unwrap();
    }
}
