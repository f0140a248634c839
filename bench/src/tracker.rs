//! `annals-bench tracker`: the production tracker (Kitsu/Zou API) side by side. Each target (an
//! annals server, and with `bench/tracker.sh --zou` the real Zou) gets the same studio through
//! the same HTTP calls (a project with a shot, 20 tasks and a comment on each, which makes 20
//! news entries), then the same closed-loop load: reading a person, the project's tasks,
//! the project's news page, and creating project statuses. See bench/README.md.
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::http::{Api, Error, User};
use crate::load::{self, ClosedResult};
use crate::stats::{Ms, thousands};

#[derive(Debug, clap::Args)]
pub struct TrackerArgs {
    /// A server to measure, `name=url` (e.g. `annals=http://127.0.0.1:8080`); give two to compare
    /// them, the first against the second.
    #[arg(long = "target", required = true)]
    targets: Vec<String>,
    /// An admin account that exists on every target.
    #[arg(long, default_value = "admin@example.com")]
    email: String,
    #[arg(long, default_value = "bench-admin-password")]
    password: String,
    /// Tasks in the project (each gets one comment, hence one news entry).
    #[arg(long, default_value_t = 20)]
    tasks: usize,
    /// Concurrent clients of every phase.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Duration of each phase, seconds (after 2 s of warm-up).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Free text identifying what was measured (e.g. the git commit).
    #[arg(long, default_value = "")]
    label: String,
    /// Where to write the Markdown report (also printed to stdout).
    #[arg(long, default_value = "bench/results/tracker.md")]
    out: PathBuf,
}

/// One call that must succeed; its JSON answer.
async fn call(
    api: &Api,
    user: &User,
    method: Method,
    path: &str,
    body: Value,
) -> Result<Value, Error> {
    let mut request = api.client().request(method.clone(), api.url(path));
    if !user.bearer.is_empty() {
        request = request.header("authorization", &user.bearer);
    }
    if !body.is_null() {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(format!("{method} {path}: {status} {answer}").into());
    }
    Ok(answer)
}

fn id(value: &Value, what: &str) -> Result<String, Error> {
    value["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{what} answered no id: {value}").into())
}

/// What the load reads: the admin's own person, and the seeded project.
struct Studio {
    person: String,
    project: String,
}

async fn login(api: &Api, email: &str, password: &str) -> Result<(User, String), Error> {
    let anonymous = User {
        bearer: String::new(),
        email: email.to_string(),
    };
    let body = json!({"email": email, "password": password});
    let answer = call(api, &anonymous, Method::POST, "/auth/login", body).await?;
    let token = answer["access_token"]
        .as_str()
        .ok_or_else(|| format!("login answered no token: {answer}"))?;
    let person = id(&answer["user"], "login")?;
    let user = User {
        bearer: format!("Bearer {token}"),
        email: email.to_string(),
    };
    Ok((user, person))
}

/// The same studio on every target, through the API alone. Names carry `tag` so that a target
/// seeded twice (or seeded by its own install, as Zou's `init-data` is) takes them as new.
async fn seed(api: &Api, user: &User, tasks: usize, tag: &str) -> Result<String, Error> {
    let post =
        |path: String, body: Value| async move { call(api, user, Method::POST, &path, body).await };
    let project = id(
        &post(
            "/data/projects".into(),
            json!({"name": format!("Bench {tag}")}),
        )
        .await?,
        "project",
    )?;
    let todo = id(
        &post(
            "/data/task-status".into(),
            json!({"name": format!("Ready {tag}"), "short_name": format!("rdy{tag}"), "color": "#cccccc"}),
        )
        .await?,
        "task status",
    )?;
    let wip = id(
        &post(
            "/data/task-status".into(),
            json!({"name": format!("Doing {tag}"), "short_name": format!("do{tag}"), "color": "#3273dc", "is_wip": true}),
        )
        .await?,
        "task status",
    )?;
    let animation = id(
        &post(
            "/data/task-types".into(),
            json!({"name": format!("Layout {tag}"), "for_entity": "Shot"}),
        )
        .await?,
        "task type",
    )?;
    let episode = id(
        &post(
            format!("/data/projects/{project}/episodes"),
            json!({"name": "E01"}),
        )
        .await?,
        "episode",
    )?;
    let sequence = id(
        &post(
            format!("/data/projects/{project}/sequences"),
            json!({"name": "S01", "episode_id": episode}),
        )
        .await?,
        "sequence",
    )?;
    let shot = id(
        &post(
            format!("/data/projects/{project}/shots"),
            json!({"name": "P01", "sequence_id": sequence}),
        )
        .await?,
        "shot",
    )?;
    for n in 0..tasks {
        let task = id(
            &post(
                "/data/tasks".into(),
                json!({"project_id": project, "task_type_id": animation, "entity_id": shot,
                       "task_status_id": todo, "name": format!("t{n}")}),
            )
            .await?,
            "task",
        )?;
        post(
            format!("/actions/tasks/{task}/comment"),
            json!({"task_status_id": wip, "comment": format!("starting t{n}")}),
        )
        .await?;
    }
    Ok(project)
}

/// The four measures of one target.
struct Measured {
    name: String,
    person: ClosedResult,
    tasks: ClosedResult,
    news: ClosedResult,
    create: ClosedResult,
}

async fn measure(name: &str, base: &str, args: &TrackerArgs) -> Result<Measured, Error> {
    let api = Api::new(base)?;
    let (user, person) = login(&api, &args.email, &args.password).await?;
    let tag = format!("{}", std::process::id() % 100_000);
    eprintln!("{name}: seeding {} tasks", args.tasks);
    let project = seed(&api, &user, args.tasks, &tag).await?;
    let studio = Studio { person, project };
    let users = std::slice::from_ref(&user);
    let (warmup, duration) = (
        Duration::from_secs(2),
        Duration::from_secs_f64(args.duration),
    );
    let read = |path: String| {
        let api = api.clone();
        async move {
            eprintln!("{name}: GET {path}");
            load::read_loop(&api, users, &path, args.clients, warmup, duration).await
        }
    };
    let person = read(format!("/data/persons/{}", studio.person)).await;
    let tasks = read(format!("/data/tasks?project_id={}", studio.project)).await;
    let news = read(format!("/data/projects/{}/news?page=1", studio.project)).await;
    eprintln!("{name}: POST /data/project-status");
    let create = {
        let api = api.clone();
        let tag = tag.clone();
        load::closed(users, args.clients, warmup, duration, move |user, n| {
            let (api, tag) = (api.clone(), tag.clone());
            async move {
                let body = json!({"name": format!("S{tag}-{n}"), "color": "#000000"});
                call(&api, &user, Method::POST, "/data/project-status", body)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
        .await
    };
    Ok(Measured {
        name: name.to_string(),
        person,
        tasks,
        news,
        create,
    })
}

pub async fn run(args: TrackerArgs) -> Result<(), Error> {
    let mut measured = Vec::new();
    for target in &args.targets {
        let (name, base) = target
            .split_once('=')
            .ok_or_else(|| format!("--target {target}: expected name=url"))?;
        measured.push(measure(name, base, &args).await?);
    }
    let markdown = render(&args, &measured);
    println!("{markdown}");
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, &markdown)?;
    eprintln!("written to {}", args.out.display());
    Ok(())
}

/// One measure of a target.
type Phase = fn(&Measured) -> &ClosedResult;

fn render(args: &TrackerArgs, measured: &[Measured]) -> String {
    let phases: [(&str, Phase); 4] = [
        ("`GET /data/persons/<id>`", |m| &m.person),
        ("`GET /data/tasks?project_id=<id>` (20 tasks)", |m| &m.tasks),
        ("`GET /data/projects/<id>/news?page=1`", |m| &m.news),
        ("`POST /data/project-status`", |m| &m.create),
    ];
    let mut lines = vec![
        "# annals benchmark: the production tracker (Kitsu/Zou API), side by side".to_string(),
        String::new(),
        format!(
            "- {} · {} clients · phases {} s after 2 s warm-up · the same seed and load on every target",
            args.label, args.clients, args.duration
        ),
        format!(
            "- Command: `bash bench/tracker.sh{}` ({})",
            if measured.len() > 1 { " --zou" } else { "" },
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
        ),
        String::new(),
        "| Request | Target | Throughput | p50 ms | p99 ms | Errors |".to_string(),
        "|---|---|---|---|---|---|".to_string(),
    ];
    for (what, of) in phases {
        for m in measured {
            let r = of(m);
            lines.push(format!(
                "| {what} | {} | {} /s | {} | {} | {}{} |",
                m.name,
                thousands(r.per_second()),
                Ms(r.latencies.ms(0.50)),
                Ms(r.latencies.ms(0.99)),
                r.errors,
                r.first_error
                    .as_ref()
                    .map(|e| format!(" (first: {})", e.chars().take(80).collect::<String>()))
                    .unwrap_or_default()
            ));
        }
    }
    if let [ours, theirs] = measured {
        lines.push(String::new());
        lines.push(format!(
            "## {} ÷ {} (targets: reads ≥ 10× the throughput with p99 < 10 ms, creates ≥ 5×)",
            ours.name, theirs.name
        ));
        lines.push(String::new());
        lines.push("| Request | Throughput ratio | p99 ratio | Target |".to_string());
        lines.push("|---|---|---|---|".to_string());
        for (i, (what, of)) in phases.into_iter().enumerate() {
            let (a, b) = (of(ours), of(theirs));
            let ratio = a.per_second() / b.per_second().max(f64::MIN_POSITIVE);
            let p99 = a.latencies.ms(0.99).unwrap_or(f64::MAX);
            let p99_ratio = match (a.latencies.ms(0.99), b.latencies.ms(0.99)) {
                (Some(x), Some(y)) if a.errors == 0 => format!("{:.2}", x / y),
                _ => "–".to_string(),
            };
            let create = i == 3;
            let met = a.errors == 0
                && if create {
                    ratio >= 5.0
                } else {
                    ratio >= 10.0 && p99 < 10.0
                };
            lines.push(format!(
                "| {what} | {ratio:.1}× | {p99_ratio} | {} |",
                if met { "met" } else { "**missed**" }
            ));
        }
    }
    lines.push(String::new());
    lines.join("\n")
}
