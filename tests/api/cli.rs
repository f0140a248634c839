//! The `annals` binary itself: subcommands, configuration errors, the admin bootstrap.
use std::process::{Command, Output};

fn annals(args: &[&str], env: &[(&str, &str)], data_dir: &std::path::Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_annals"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("NATS_URL")
        .env("ANNALS_DATA_DIR", data_dir)
        .env("RUST_LOG", "error");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("annals runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_the_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let out = annals(&["--help"], &[], dir.path());
    assert!(out.status.success());
    let help = text(&out.stdout);
    for sub in [
        "serve", "worker", "relay", "migrate", "rebuild", "admin", "replay", "verify",
    ] {
        assert!(help.contains(sub), "{sub} missing from --help:\n{help}");
    }
}

#[test]
fn bad_configuration_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 4] = [
        (
            &["serve"],
            &[("DATABASE_URL", "mysql://db")],
            "DATABASE_URL must start with",
        ),
        (&["relay"], &[], "needs Postgres and NATS"),
        (
            &["serve"],
            &[("ANNALS_JWT_SECRET", "short")],
            "at least 32 bytes",
        ),
        (
            &["serve"],
            &[("ANNALS_ENV", "production")],
            "ANNALS_ENV=production needs ANNALS_JWT_SECRET",
        ),
    ];
    for (args, env, expected) in cases {
        let out = annals(args, env, dir.path());
        assert!(!out.status.success(), "{args:?} {env:?} should fail");
        let stderr = text(&out.stderr);
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(
            lines[0].starts_with("annals: ") && lines[0].contains(expected),
            "{stderr}"
        );
    }
}

#[test]
fn admin_create_user_bootstraps_an_embedded_install() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "admin",
        "create-user",
        "--email",
        "root@example.com",
        "--password",
        "a-strong-and-secure-password",
        "--role",
        "admin",
    ];
    let out = annals(&args, &[], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("created user"),
        "{}",
        text(&out.stdout)
    );
    assert!(dir.path().join("annals.db").exists());

    let again = annals(&args, &[], dir.path());
    assert!(
        text(&again.stdout).contains("already exists"),
        "{}",
        text(&again.stdout)
    );

    let mut demote = args.to_vec();
    demote[7] = "manager";
    let changed = annals(&demote, &[], dir.path());
    assert!(
        text(&changed.stdout).contains("now has role manager"),
        "{}",
        text(&changed.stdout)
    );

    let mut bad = args.to_vec();
    bad[7] = "emperor";
    let refused = annals(&bad, &[], dir.path());
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("role"));
}
