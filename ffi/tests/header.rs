//! The committed C header must be exactly what the pinned cbindgen generates from the
//! sources. After changing the API, regenerate it: `make -C ffi header` (which runs this
//! test with `SB_BLESS_HEADER=1`).

use std::path::Path;

#[test]
fn committed_header_matches_a_fresh_generation() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = crate_dir.join("../include/switchboard.h");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("ffi/cbindgen.toml is readable and valid");
    let mut fresh = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen can generate the header")
        .write(&mut fresh);
    if std::env::var_os("SB_BLESS_HEADER").is_some() {
        std::fs::write(&header, &fresh).expect("include/switchboard.h is writable");
        return;
    }
    let committed = std::fs::read(&header).unwrap_or_default();
    if committed != fresh {
        let fresh = String::from_utf8_lossy(&fresh);
        let committed = String::from_utf8_lossy(&committed);
        let first = fresh
            .lines()
            .zip(committed.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(fresh.lines().count().min(committed.lines().count()));
        panic!(
            "include/switchboard.h is out of date (first difference at line {}):\n  \
             committed: {:?}\n  generated: {:?}\nRegenerate it with `make -C ffi header`.",
            first + 1,
            committed.lines().nth(first).unwrap_or("<end of file>"),
            fresh.lines().nth(first).unwrap_or("<end of file>"),
        );
    }
}
