//! Fingerprints the sources the circuits are built from, so that the on-disk circuit cache
//! (`src/circuits/cache.rs`) is keyed by the code itself, not by a version someone must
//! remember to bump: this crate's circuit modules (gadgets, gates and both serializer
//! lists), `rollup-core` (chunk sizes, formats and the native twins the circuits mirror)
//! and the locked plonky2 packages.

use std::{
    fs,
    path::{Path, PathBuf},
};

/// FNV-1a, 64 bits: stable across toolchains (unlike `DefaultHasher`), and enough to tell
/// one source tree from another (this detects edits, it does not resist an adversary).
struct Fnv(u64);

impl Fnv {
    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let roots = [manifest.join("src/circuits"), manifest.join("../core/src")];
    let lock = manifest.join("../Cargo.lock");

    let mut hash = Fnv(0xcbf2_9ce4_8422_2325);
    for root in &roots {
        println!("cargo:rerun-if-changed={}", root.display());
        let mut paths = Vec::new();
        files(root, &mut paths);
        paths.sort();
        for path in paths {
            let relative = path.strip_prefix(&manifest).unwrap_or(&path);
            hash.update(relative.to_string_lossy().as_bytes());
            hash.update(&[0]);
            hash.update(&fs::read(&path).expect("a readable source file"));
            hash.update(&[0]);
        }
    }
    println!("cargo:rerun-if-changed={}", lock.display());
    if let Ok(lock) = fs::read_to_string(&lock) {
        for package in lock.split("[[package]]") {
            if package.contains("name = \"plonky2") {
                hash.update(package.as_bytes());
            }
        }
    }
    println!(
        "cargo:rustc-env=PROVER_CIRCUITS_FINGERPRINT={:016x}",
        hash.0
    );
}
