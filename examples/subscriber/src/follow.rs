//! The subscriber's loop. With NATS: follow the durable consumer; on its first start, catch up
//! through the REST history to the newest event first, then make the consumer there; whenever
//! the stream does not hold the next event (its retention dropped it, or it was lost), read
//! the missing events from the history and go on with the stream. Without NATS: poll the
//! history.
//!
//! Every event passes through [`Store::apply`], which applies it only if it follows the
//! checkpoint (`prevposition == checkpoint`), skips it if it is at or before the checkpoint
//! (redelivered, or already read from the history) and reports a gap otherwise. So switching
//! sources can neither skip nor repeat an event.
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::history::History;
use crate::store::{Store, Via};
use crate::stream::{self, StreamConfig};
use crate::{Envelope, Error};

/// Runs until `cancel` fires or a fatal error (refused credentials, another log, an event
/// it cannot read). Passing troubles (annals or NATS down) are logged and retried.
pub async fn run(config: Config, cancel: CancellationToken) -> Result<(), Error> {
    let store = Store::open(&config.database_url).await?;
    let mut history = History::new(&config.annals_url, config.credentials())?;
    let stream = config.stream();
    let start = store.checkpoint().await?;
    tracing::info!(checkpoint = %start.position, nats = stream.is_some(), "subscriber starting");
    let result = follow(&config, &store, &mut history, stream.as_ref(), &cancel).await;
    store.close().await;
    result
}

async fn follow(
    config: &Config,
    store: &Store,
    history: &mut History,
    stream: Option<&StreamConfig>,
    cancel: &CancellationToken,
) -> Result<(), Error> {
    while !cancel.is_cancelled() {
        let attempt = match stream {
            Some(stream) => follow_stream(config, stream, store, history, cancel).await,
            None => catch_up(store, history, config.page_size).await,
        };
        match attempt {
            Ok(()) => {}
            Err(e) if e.is_fatal() => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "retrying");
                // NATS is a fan-out, not the only path: while it is down, poll the history.
                if stream.is_some()
                    && let Err(e) = catch_up(store, history, config.page_size).await
                {
                    tracing::warn!(error = %e, "the history is unreachable too");
                }
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = tokio::time::sleep(config.poll()) => {}
        }
    }
    Ok(())
}

/// Applies history pages until one is short: the newest event is applied.
async fn catch_up(store: &Store, history: &mut History, page_size: u32) -> Result<(), Error> {
    loop {
        let checkpoint = store.checkpoint().await?.position;
        let page = history.page(checkpoint, page_size).await?;
        let applied = store.apply(&page.events, Via::History).await?;
        if let Some(gap) = applied.gap {
            return Err(Error::Gap(gap));
        }
        if applied.applied > 0 {
            tracing::debug!(applied = applied.applied, to = %page.next, "caught up a page");
        }
        if page.events.len() < page_size as usize {
            return Ok(());
        }
    }
}

/// Follows the stream until NATS fails or `cancel` fires. Each message is committed, then
/// acknowledged: a crash in between redelivers it, and it is skipped. The first message
/// after a restart shows whether the stream still holds what came after the checkpoint.
async fn follow_stream(
    config: &Config,
    stream: &StreamConfig,
    store: &Store,
    history: &mut History,
    cancel: &CancellationToken,
) -> Result<(), Error> {
    let nats = stream::connect(stream).await?;
    let consumer = match stream::existing(&nats, stream).await? {
        Some(consumer) => consumer,
        None => {
            catch_up(store, history, config.page_size).await?;
            stream::create(&nats, stream, &store.checkpoint().await?).await?
        }
    };
    let mut messages = stream::messages(&consumer).await?;
    let checkpoint = store.checkpoint().await?.position;
    tracing::info!(%checkpoint, "following the stream");
    loop {
        let next = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            next = tokio::time::timeout(config.silence_check(), messages.next()) => next,
        };
        let message = match next {
            // Silence: the stream may have lost the newest events; the history has them.
            Err(_) => {
                catch_up(store, history, config.page_size).await?;
                continue;
            }
            Ok(None) => return Err(Error::Nats("the consumer closed".into())),
            Ok(Some(Err(e))) => return Err(Error::Nats(e.to_string())),
            Ok(Some(Ok(message))) => message,
        };
        let envelope: Envelope =
            serde_json::from_slice(&message.payload).map_err(|e| Error::Event {
                id: format!("the message on {}", message.subject),
                reason: e.to_string(),
            })?;
        apply_from_stream(store, history, config.page_size, envelope).await?;
        message
            .ack()
            .await
            .map_err(|e| Error::Nats(e.to_string()))?;
    }
}

/// Applies one message; on a gap, reads the missing events from the history first (the
/// message is then at or before the checkpoint, and skipped).
async fn apply_from_stream(
    store: &Store,
    history: &mut History,
    page_size: u32,
    envelope: Envelope,
) -> Result<(), Error> {
    let events = std::slice::from_ref(&envelope);
    let Some(gap) = store.apply(events, Via::Stream).await?.gap else {
        return Ok(());
    };
    tracing::info!(
        checkpoint = %gap.checkpoint, next = %gap.position, prevposition = %gap.prevposition,
        "the stream does not hold the events after the checkpoint; reading them from the history"
    );
    catch_up(store, history, page_size).await?;
    match store.apply(events, Via::Stream).await?.gap {
        None => Ok(()),
        // The history is behind the stream (should not happen): retry from the top.
        Some(gap) => Err(Error::Gap(gap)),
    }
}
