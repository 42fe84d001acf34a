//! Circuit data built once and kept on disk, so that a worker starts in seconds.
//!
//! Building a [`CircuitSet`] takes minutes (most of it the LDE and Merkle tree of every
//! circuit's constants and permutation); reading it back takes seconds.
//! [`CircuitSet::load_or_build`] loads the set of a configuration from its directory under
//! the cache directory, or builds it and stores it there.
//!
//! ## Layout
//! ```text
//! <cache dir>/p<partition bits>-d<depth>-c<chain id>-m<merge levels>-<key>/
//!     manifest            the key's description, then one line per circuit:
//!                         file, length, Keccak-256 of the file, circuit digest
//!     chunk.bin  merge-1.bin ..  range-1.bin ..  top.bin  wrapper.bin
//! ```
//! Each `.bin` is a circuit struct as [`Persist`] writes it: its `CircuitData` (with the
//! crate's gate and generator serializers) followed by the targets its `prove` fills.
//!
//! ## Key
//! The circuits are a function of the parameters, the merge levels and the code. The key
//! hashes all three: [`ChunkParams`], the merge levels, [`CACHE_FORMAT`], the crate version
//! and a fingerprint of the sources the circuits come from (this crate's circuit modules,
//! which hold the gates, gadgets and both serializer lists; `rollup-core`; the locked
//! plonky2 packages), computed by `build.rs`. Any edit there changes the key, so a stale
//! set is never loaded, at the price of one rebuild per code change (a version constant
//! someone must remember to bump would not be safe). Old directories are left in place.
//!
//! A loaded set must then match its manifest: every file present with the recorded
//! length and Keccak-256 (a truncated or corrupted file is caught before use; decoding
//! alone would accept a flipped byte in a polynomial), and every circuit's
//! `verifier_only.circuit_digest` equal to the digest recorded when it was built, which is
//! also what logs and L1 (the wrapper's) know the circuits by. Anything else is a miss: the
//! set is rebuilt and the directory replaced.
//!
//! ## Writers
//! A set is written into a fresh temporary directory beside its final place, synced, and
//! renamed into place, so a reader sees a whole set or none. When two workers build at
//! once, the first rename wins and the other discards its copy; a directory that failed to
//! load is first renamed aside, then removed.

use std::{
    fmt::Write as _,
    fs,
    io::Write as _,
    path::{Path, PathBuf},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use plonky2::{plonk::config::GenericHashOut, util::serialization::IoResult};
use rollup_core::batch_data::keccak256;
use tracing::{info, warn};

use super::{
    aggregation::{merge::MergeCircuit, range::RangeCircuit, top::TopCircuit, tree::CircuitSet},
    chunk::{ChunkCircuit, ChunkParams},
    serialization::{from_bytes, to_bytes, Persist},
    wrapper::WrapperCircuit,
    F,
};
use crate::Result;

/// The version of this module's layout (bump when the manifest or file framing changes).
pub const CACHE_FORMAT: u32 = 1;

/// The fingerprint of the circuit sources, from `build.rs`.
const SOURCES: &str = env!("PROVER_CIRCUITS_FINGERPRINT");

/// Why a cached set was not used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The set's directory or a file of it could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The directory holds something other than the set its key names.
    #[error("{0}")]
    Invalid(String),
}

/// What the key covers, as the manifest's first line records it.
fn description(params: &ChunkParams, merge_levels: usize) -> String {
    format!(
        "format {CACHE_FORMAT} crate {} sources {SOURCES} depth {} partition_bits {} \
         chain_id {} merge_levels {merge_levels}",
        env!("CARGO_PKG_VERSION"),
        params.tree.depth(),
        params.tree.partition_bits(),
        params.chain_id,
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The directory of the set of `params` with `merge_levels` under `cache_dir`.
pub fn set_dir(cache_dir: &Path, params: &ChunkParams, merge_levels: usize) -> PathBuf {
    let key = keccak256(description(params, merge_levels).as_bytes());
    cache_dir.join(format!(
        "p{}-d{}-c{}-m{merge_levels}-{}",
        params.tree.partition_bits(),
        params.tree.depth(),
        params.chain_id,
        hex(&key[..8]),
    ))
}

/// A circuit digest (Poseidon or, for the wrapper, Keccak) as hex.
fn digest_hex(digest: &impl GenericHashOut<F>) -> String {
    hex(&digest.to_bytes())
}

fn invalid(reason: impl Into<String>) -> CacheError {
    CacheError::Invalid(reason.into())
}

/// One manifest line.
struct Entry {
    file: String,
    len: usize,
    checksum: String,
    digest: String,
}

/// The file names of a set, in manifest order.
fn file_names(partition_bits: usize, merge_levels: usize) -> Vec<String> {
    std::iter::once("chunk.bin".to_owned())
        .chain((1..=merge_levels).map(|h| format!("merge-{h}.bin")))
        .chain((1..=partition_bits).map(|l| format!("range-{l}.bin")))
        .chain(["top.bin".to_owned(), "wrapper.bin".to_owned()])
        .collect()
}

fn read_manifest(dir: &Path, expected: &str) -> std::result::Result<Vec<Entry>, CacheError> {
    let path = dir.join("manifest");
    let text = fs::read_to_string(&path).map_err(|source| CacheError::Read { path, source })?;
    let mut lines = text.lines();
    if lines.next() != Some(expected) {
        return Err(invalid("the manifest describes another configuration"));
    }
    lines
        .map(|line| match line.split(' ').collect::<Vec<_>>()[..] {
            [file, len, checksum, digest] => Ok(Entry {
                file: file.to_owned(),
                len: len.parse().map_err(|_| invalid("a bad length"))?,
                checksum: checksum.to_owned(),
                digest: digest.to_owned(),
            }),
            _ => Err(invalid(format!("a bad manifest line: {line}"))),
        })
        .collect()
}

/// A circuit struct of the set: its bytes and the digest its manifest line records.
trait Cached: Persist + Send {
    /// `verifier_only.circuit_digest`, as hex.
    fn digest(&self) -> String;
}

macro_rules! cached {
    ($($circuit:ty),*) => {
        $(impl Cached for $circuit {
            fn digest(&self) -> String {
                digest_hex(&self.data.verifier_only.circuit_digest)
            }
        })*
    };
}
cached!(
    ChunkCircuit,
    MergeCircuit,
    RangeCircuit,
    TopCircuit,
    WrapperCircuit
);

/// Reads one circuit and checks it against its manifest entry.
fn read_circuit<T: Cached>(dir: &Path, entry: &Entry) -> std::result::Result<T, CacheError> {
    let path = dir.join(&entry.file);
    let bytes = fs::read(&path).map_err(|source| CacheError::Read { path, source })?;
    if bytes.len() != entry.len || hex(&keccak256(&bytes)) != entry.checksum {
        return Err(invalid(format!("{} is truncated or corrupted", entry.file)));
    }
    let circuit: T =
        from_bytes(&bytes).map_err(|_| invalid(format!("{} does not decode", entry.file)))?;
    if circuit.digest() != entry.digest {
        return Err(invalid(format!(
            "{} has another circuit digest",
            entry.file
        )));
    }
    Ok(circuit)
}

impl CircuitSet {
    /// Loads the set of `params` and `merge_levels` from `cache_dir`, or builds it (and
    /// stores it there for the next start). A cache that cannot be written is logged and
    /// skipped: the built set is returned all the same.
    pub fn load_or_build(
        params: ChunkParams,
        merge_levels: usize,
        cache_dir: &Path,
    ) -> Result<Self> {
        let dir = set_dir(cache_dir, &params, merge_levels);
        let started = Instant::now();
        let stale = match Self::load(&dir, params, merge_levels) {
            Ok(set) => {
                info!(
                    dir = %dir.display(),
                    seconds = started.elapsed().as_secs_f64(),
                    wrapper_digest = set.wrapper.digest(),
                    "circuits loaded from the cache"
                );
                return Ok(set);
            }
            Err(CacheError::Read { ref source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                info!(dir = %dir.display(), "no cached circuits: building them");
                false
            }
            Err(error) => {
                warn!(dir = %dir.display(), %error, "cached circuits unusable: rebuilding them");
                true
            }
        };
        let started = Instant::now();
        let set = Self::build(params, merge_levels)?;
        info!(seconds = started.elapsed().as_secs_f64(), "circuits built");
        if let Err(error) = set.store(&dir, stale) {
            warn!(dir = %dir.display(), %error, "the built circuits could not be cached");
        }
        Ok(set)
    }

    /// Loads a set from its directory ([`set_dir`]), checked against its manifest.
    pub fn load(
        dir: &Path,
        params: ChunkParams,
        merge_levels: usize,
    ) -> std::result::Result<Self, CacheError> {
        let partition_bits = params.tree.partition_bits() as usize;
        let entries = read_manifest(dir, &description(&params, merge_levels))?;
        let names = file_names(partition_bits, merge_levels);
        if entries.iter().map(|e| &e.file).ne(names.iter()) {
            return Err(invalid("the manifest lists other files"));
        }
        let (chunk, (wrapper, inner)) = rayon::join(
            || read_circuit::<ChunkCircuit>(dir, &entries[0]),
            || {
                rayon::join(
                    || read_circuit::<WrapperCircuit>(dir, &entries[entries.len() - 1]),
                    || {
                        let merges = entries[1..=merge_levels]
                            .iter()
                            .map(|e| read_circuit::<MergeCircuit>(dir, e))
                            .collect::<std::result::Result<Vec<_>, _>>()?;
                        let ranges = entries[merge_levels + 1..entries.len() - 2]
                            .iter()
                            .map(|e| read_circuit::<RangeCircuit>(dir, e))
                            .collect::<std::result::Result<Vec<_>, _>>()?;
                        let top = read_circuit::<TopCircuit>(dir, &entries[entries.len() - 2])?;
                        Ok::<_, CacheError>((merges, ranges, top))
                    },
                )
            },
        );
        let (chunk, wrapper, (merges, ranges, top)) = (chunk?, wrapper?, inner?);
        if chunk.params() != params {
            return Err(invalid("the chunk circuit was built for other parameters"));
        }
        Ok(Self {
            params,
            chunk,
            merges,
            ranges,
            top,
            wrapper,
        })
    }

    /// Writes the set into `dir` (see the module documentation), replacing what is there
    /// if `replace` (a set that failed to load).
    fn store(&self, dir: &Path, replace: bool) -> std::io::Result<()> {
        let parent = dir.parent().expect("a set directory has a parent");
        fs::create_dir_all(parent)?;
        let nonce = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = dir
            .file_name()
            .expect("a set directory has a name")
            .to_string_lossy();
        let tmp = parent.join(format!(".{name}.tmp-{}-{nonce}", std::process::id()));
        let result = self.write_files(&tmp).and_then(|()| {
            if replace && dir.exists() {
                let aside = parent.join(format!(".{name}.stale-{}-{nonce}", std::process::id()));
                fs::rename(dir, &aside)?;
                fs::remove_dir_all(&aside)?;
            }
            match fs::rename(&tmp, dir) {
                // Another worker stored the same set first: keep theirs.
                Err(_) if dir.join("manifest").exists() => fs::remove_dir_all(&tmp),
                other => other,
            }
        });
        if result.is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        result
    }

    fn write_files(&self, tmp: &Path) -> std::io::Result<()> {
        fs::create_dir(tmp)?;
        let merge_levels = self.merges.len();
        let mut manifest = description(&self.params, merge_levels);
        let mut names = file_names(self.ranges.len(), merge_levels).into_iter();
        let mut write = |circuit: &dyn Fn() -> IoResult<Vec<u8>>, digest: String| {
            let name = names.next().expect("a name per circuit");
            let bytes =
                circuit().map_err(|e| std::io::Error::other(format!("serializing {name}: {e}")))?;
            let mut file = fs::File::create(tmp.join(&name))?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            let _ = write!(
                manifest,
                "\n{name} {} {} {}",
                bytes.len(),
                hex(&keccak256(&bytes)),
                digest
            );
            Ok::<_, std::io::Error>(())
        };
        write(&|| to_bytes(&self.chunk), self.chunk.digest())?;
        for merge in &self.merges {
            write(&|| to_bytes(merge), merge.digest())?;
        }
        for range in &self.ranges {
            write(&|| to_bytes(range), range.digest())?;
        }
        write(&|| to_bytes(&self.top), self.top.digest())?;
        write(&|| to_bytes(&self.wrapper), self.wrapper.digest())?;
        let mut file = fs::File::create(tmp.join("manifest"))?;
        file.write_all(manifest.as_bytes())?;
        file.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;
    use crate::circuits::chunk::tests::{sample_batch_witness, test_params};

    const MERGE_LEVELS: usize = 2;

    /// A fresh directory under the system's temporary directory (the test using it
    /// removes it: a set takes tens of megabytes or more).
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "prover-cache-{name}-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The set built (and stored) once per test binary, with its cache directory, which
    /// only [`cache_loads_a_stored_set_that_proves_like_the_built_one`] reads (and removes).
    fn built() -> &'static (CircuitSet, PathBuf) {
        static BUILT: OnceLock<(CircuitSet, PathBuf)> = OnceLock::new();
        BUILT.get_or_init(|| {
            let cache = scratch("shared");
            let started = Instant::now();
            let set = CircuitSet::load_or_build(test_params(), MERGE_LEVELS, &cache).unwrap();
            eprintln!("built and stored in {:?}", started.elapsed());
            (set, cache)
        })
    }

    fn digests(set: &CircuitSet) -> Vec<String> {
        std::iter::once(set.chunk.digest())
            .chain(set.merges.iter().map(Cached::digest))
            .chain(set.ranges.iter().map(Cached::digest))
            .chain([set.top.digest(), set.wrapper.digest()])
            .collect()
    }

    #[test]
    fn cache_keys_change_with_the_configuration() {
        let params = test_params();
        let root = Path::new("/cache");
        let dir = set_dir(root, &params, MERGE_LEVELS);
        assert_ne!(dir, set_dir(root, &params, MERGE_LEVELS + 1));
        let other = ChunkParams {
            chain_id: params.chain_id + 1,
            ..params
        };
        assert_ne!(dir, set_dir(root, &other, MERGE_LEVELS));
        assert_eq!(dir, set_dir(root, &test_params(), MERGE_LEVELS));
    }

    #[test]
    fn cache_loads_a_stored_set_that_proves_like_the_built_one() {
        let (set, cache) = built();
        let dir = set_dir(cache, &test_params(), MERGE_LEVELS);
        let started = Instant::now();
        let loaded = CircuitSet::load_or_build(test_params(), MERGE_LEVELS, cache).unwrap();
        eprintln!("loaded in {:?}", started.elapsed());
        let sizes: Vec<(String, u64)> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().unwrap().len(),
                )
            })
            .collect();
        eprintln!("files: {sizes:?}");

        assert_eq!(digests(&loaded), digests(set));
        assert_eq!(loaded.chunk.data.common, set.chunk.data.common);
        assert_eq!(
            loaded.wrapper.data.verifier_only,
            set.wrapper.data.verifier_only
        );

        // The loaded prover data proves a chunk, and lifts it through the loaded merge
        // (the recursive verifier's generators); both verifiers accept.
        let witness = sample_batch_witness(&test_params());
        let proof = loaded.chunk.prove(&witness.chunks[0]).unwrap();
        set.chunk.data.verify(proof.clone()).unwrap();
        loaded.chunk.data.verify(proof.clone()).unwrap();
        let merged = loaded.merges[0].prove(&proof, None).unwrap();
        set.merges[0].data.verify(merged.clone()).unwrap();
        loaded.merges[0].data.verify(merged.clone()).unwrap();
        assert_eq!(merged.public_inputs, proof.public_inputs);
        fs::remove_dir_all(cache).unwrap();
    }

    #[test]
    fn cache_detects_a_corrupted_file_and_replaces_the_set() {
        let (set, _) = built();
        let params = test_params();
        let copy = scratch("corrupt");
        let dir = set_dir(&copy, &params, MERGE_LEVELS);
        set.store(&dir, false).unwrap();
        CircuitSet::load(&dir, params, MERGE_LEVELS).unwrap();

        // One flipped byte deep in a file's prover data.
        let file = dir.join("merge-1.bin");
        let mut bytes = fs::read(&file).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        fs::write(&file, &bytes).unwrap();
        let error = CircuitSet::load(&dir, params, MERGE_LEVELS).err().unwrap();
        assert!(
            matches!(&error, CacheError::Invalid(reason) if reason.contains("merge-1.bin")),
            "{error}"
        );

        // What load_or_build does after such a miss: the rebuilt set replaces the directory.
        set.store(&dir, true).unwrap();
        let reloaded = CircuitSet::load(&dir, params, MERGE_LEVELS).unwrap();
        assert_eq!(digests(&reloaded), digests(set));

        // A manifest of another configuration, or naming another digest, is refused too.
        assert!(CircuitSet::load(&dir, params, MERGE_LEVELS + 1).is_err());
        let manifest = fs::read_to_string(dir.join("manifest")).unwrap();
        let wrapper_digest = set.wrapper.digest();
        fs::write(
            dir.join("manifest"),
            manifest.replace(&wrapper_digest, &"0".repeat(wrapper_digest.len())),
        )
        .unwrap();
        let error = CircuitSet::load(&dir, params, MERGE_LEVELS).err().unwrap();
        assert!(error.to_string().contains("digest"), "{error}");
        // Nothing but the set is left beside it (no temporary or stale directory).
        assert_eq!(fs::read_dir(&copy).unwrap().count(), 1);
        fs::remove_dir_all(&copy).unwrap();
    }
}
