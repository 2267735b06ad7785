//! The library without the command line: a program that depends on `hotpixels` with default
//! features off must not build the command line's crates.

use std::process::Command;

/// The crates `hotpixels` pulls in as normal dependencies (not dev or build ones) with `args`,
/// as `cargo tree` resolves them from the lock file.
fn normal_dependencies(args: &[&str]) -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "-e", "normal", "--prefix", "none"])
        .args([
            "--manifest-path",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
        ])
        .args(args)
        .output()
        .expect("running cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// The crates only the command line needs.
const CLI_ONLY: [&str; 2] = ["clap", "indicatif"];

#[test]
fn without_default_features_the_library_builds_no_command_line_crates() {
    let lean = normal_dependencies(&["--no-default-features"]);
    for name in CLI_ONLY {
        assert!(!lean.iter().any(|n| n == name), "{name} is built: {lean:?}");
    }
    // What the library itself needs stays.
    for name in ["wgpu", "image", "rayon", "serde_json"] {
        assert!(lean.iter().any(|n| n == name), "{name} missing: {lean:?}");
    }
    // The command line (a default feature) does bring them in: the check above can fail.
    let full = normal_dependencies(&[]);
    for name in CLI_ONLY {
        assert!(
            full.iter().any(|n| n == name),
            "{name} not in the CLI build"
        );
    }
}
