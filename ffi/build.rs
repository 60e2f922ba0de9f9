//! Gives the shared library a SONAME with its ABI version, so programs record
//! which ABI they were linked against: `libswitchboard.so.0.MINOR` while the
//! version is 0.x (where a minor release may change the ABI), then
//! `libswitchboard.so.MAJOR`. `make -C ffi install` installs it under that name
//! with the usual links.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    let abi = if major == "0" {
        format!("0.{minor}")
    } else {
        major
    };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libswitchboard.so.{abi}");
}
