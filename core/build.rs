//! Rebuilds the crate when a migration changes: `sqlx::migrate!` embeds `migrations/` at
//! compile time, but cargo does not know the macro read it.

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
