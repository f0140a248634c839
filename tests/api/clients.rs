//! The real client libraries (PyPI `gazu`, npm `@pm2/js-api`), installed once into the build
//! directory and driven from the tests as separate processes.
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

pub const GAZU_VERSION: &str = "1.3.1";
pub const PM2_JS_API_VERSION: &str = "0.8.1";

fn cache_root() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("test-clients")
}

/// Runs an installer into a temporary directory, then moves it into place, so a crash never
/// leaves a half-installed client behind.
fn install(name: &str, marker: &str, run: impl FnOnce(&PathBuf) -> Command) -> PathBuf {
    let dir = cache_root().join(name);
    if dir.join(marker).exists() {
        return dir;
    }
    std::fs::create_dir_all(cache_root()).expect("client cache dir");
    let staging = cache_root().join(format!("{name}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).expect("staging dir");
    let status = run(&staging).status().expect("installer runs");
    assert!(status.success(), "installing {name} failed");
    assert!(
        staging.join(marker).exists(),
        "{name} installed without {marker}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&staging, &dir).expect("move the client into place");
    dir
}

/// A directory to put on `PYTHONPATH` for `import gazu`.
pub fn gazu() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        install(&format!("gazu-{GAZU_VERSION}"), "gazu", |dir| {
            let mut c = Command::new("python3");
            c.args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
            ])
            .arg(dir)
            .arg(format!("gazu=={GAZU_VERSION}"));
            c
        })
    })
    .clone()
}

/// A directory whose `node_modules` holds `@pm2/js-api` (run node with it as the cwd).
pub fn pm2_js_api() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        install(
            &format!("pm2-js-api-{PM2_JS_API_VERSION}"),
            "node_modules/@pm2/js-api/package.json",
            |dir| {
                let mut c = Command::new("npm");
                c.args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
                    .arg(dir)
                    .arg(format!("@pm2/js-api@{PM2_JS_API_VERSION}"));
                c
            },
        )
    })
    .clone()
}

/// Output of a client script: its stdout parsed as JSON, or a panic with its stderr.
pub struct ScriptOutput {
    pub json: serde_json::Value,
}

async fn run(mut command: tokio::process::Command, what: &str) -> ScriptOutput {
    let output = command.output().await.expect("client script runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let last = stdout.lines().last().unwrap_or_default();
    let json = serde_json::from_str(last).unwrap_or_else(|e| {
        panic!("{what} did not end with a JSON line ({e}):\n{stdout}\n{stderr}")
    });
    ScriptOutput { json }
}

/// Runs a Python script with gazu importable; `args` are passed as `sys.argv[1:]`.
pub async fn python(script: &str, args: &[&str]) -> ScriptOutput {
    let dir = tokio::task::spawn_blocking(gazu).await.unwrap();
    let mut command = tokio::process::Command::new("python3");
    command
        .arg("-c")
        .arg(script)
        .args(args)
        .env("PYTHONPATH", dir);
    run(command, "python script").await
}

/// Runs a Node script with `@pm2/js-api` requirable; `args` follow `--` in `process.argv` (take them from the end).
pub async fn node(script: &str, args: &[&str]) -> ScriptOutput {
    let dir = tokio::task::spawn_blocking(pm2_js_api).await.unwrap();
    let mut command = tokio::process::Command::new("node");
    command
        .arg("-e")
        .arg(script)
        .arg("--")
        .args(args)
        .current_dir(dir);
    run(command, "node script").await
}

/// Runs a Node script with `@pm2/js-api` as `PM2IO`, bounded by a watchdog of `limit`: the
/// client hangs on some server answers, and a hang must fail the test rather than block it.
/// The script defines `main()`; it gets its arguments from the end of `process.argv`.
/// `login(base, refresh_token)` and `failure(e)` (a rejected call's `{status, data}`) are
/// predefined. Returns what `main()` resolved to.
pub async fn pm2(script: &str, args: &[&str], limit: std::time::Duration) -> serde_json::Value {
    // Install first (once per build directory), so the bound covers the script only.
    tokio::task::spawn_blocking(pm2_js_api).await.unwrap();
    let watchdog_ms = limit.as_millis();
    let script = format!(
        "const PM2IO = require('@pm2/js-api');\n\
         const watchdog = setTimeout(() => {{ console.log(JSON.stringify({{hung: true}})); process.exit(3); }}, {watchdog_ms});\n\
         const failure = (e) => ({{status: e && e.status, data: e && e.data, message: e && e.message}});\n\
         const login = (base, refresh_token) => new PM2IO({{ services: {{ API: base, OAUTH: base }} }}).use('standalone', {{ refresh_token }});\n\
         {script}\n\
         main().then((out) => {{ clearTimeout(watchdog); console.log(JSON.stringify(out)); process.exit(0); }},\n\
                     (e) => {{ console.error(e); console.log(JSON.stringify({{unexpected: failure(e)}})); process.exit(1); }});"
    );
    let output = tokio::time::timeout(
        limit + std::time::Duration::from_secs(30),
        node(&script, args),
    )
    .await
    .expect("the pm2 client script finished in time");
    output.json
}
