//! Mails appended as JSON lines to a local file, for development and tests.
use std::path::PathBuf;

use async_trait::async_trait;
use chrono::Utc;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use super::{Mail, MailError, Mailer};

pub struct OutboxMailer {
    path: PathBuf,
    lock: Mutex<()>,
}

impl OutboxMailer {
    pub fn new(data_dir: &std::path::Path) -> Self {
        let path = data_dir.join("outbox").join("mail.jsonl");
        tracing::info!(path = %path.display(), "no SMTP configured: mails go to the outbox file");
        Self {
            path,
            lock: Mutex::new(()),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let err = |e: std::io::Error| MailError(e.to_string());
        let mut line = serde_json::to_value(&mail).map_err(|e| MailError(e.to_string()))?;
        line["sent_at"] = serde_json::json!(Utc::now());
        let mut bytes = serde_json::to_vec(&line).map_err(|e| MailError(e.to_string()))?;
        bytes.push(b'\n');
        let _guard = self.lock.lock().await;
        if let Some(dir) = self.path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(err)?;
        }
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await
            .map_err(err)?;
        file.write_all(&bytes).await.map_err(err)?;
        file.flush().await.map_err(err)
    }
}
