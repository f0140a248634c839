//! The two things the benchmark asks NATS, in its plain text protocol (no client needed): the
//! server version, and deleting a JetStream stream made for a measurement.
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `host:port` of a `nats://` URL.
fn address(url: &str) -> String {
    url.trim_start_matches("nats://")
        .split('/')
        .next()
        .unwrap_or("")
        .to_string()
}

/// The version from the INFO line a NATS server sends on connect.
pub async fn version(url: &str) -> String {
    let read = async {
        let mut stream = TcpStream::connect(address(url)).await.ok()?;
        let mut buffer = vec![0u8; 4096];
        let n = stream.read(&mut buffer).await.ok()?;
        let info = String::from_utf8_lossy(&buffer[..n]).to_string();
        let json: serde_json::Value =
            serde_json::from_str(info.strip_prefix("INFO ")?.trim()).ok()?;
        Some(format!(
            "{}{}",
            json["version"].as_str()?,
            if json["jetstream"] == true {
                " (JetStream)"
            } else {
                ""
            }
        ))
    };
    tokio::time::timeout(Duration::from_secs(2), read)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| "?".into())
}

/// Deletes a JetStream stream (a request to `$JS.API.STREAM.DELETE.<name>`); whether the
/// server said it succeeded.
pub async fn delete_stream(url: &str, stream: &str) -> bool {
    let request = async {
        let mut conn = TcpStream::connect(address(url)).await.ok()?;
        let command = format!(
            "CONNECT {{\"verbose\":false}}\r\nSUB _INBOX.annalsbench 1\r\n\
             PUB $JS.API.STREAM.DELETE.{stream} _INBOX.annalsbench 0\r\n\r\n"
        );
        conn.write_all(command.as_bytes()).await.ok()?;
        let (mut seen, mut buffer) = (String::new(), vec![0u8; 4096]);
        loop {
            let n = conn.read(&mut buffer).await.ok()?;
            if n == 0 {
                return None;
            }
            seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
            if seen.contains("\"success\":true") {
                return Some(());
            }
            if seen.contains("\"error\"") || seen.contains("-ERR") {
                return None;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(3), request)
        .await
        .ok()
        .flatten()
        .is_some()
}
