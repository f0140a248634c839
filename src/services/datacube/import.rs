//! An import, staged before it is written: the upload's documents go to an unnamed temporary
//! file as they are split from it ([`Staged`]), then are read back, validated by their
//! aggregates and appended a chunk at a time in one transaction ([`Datacube::import`]). Memory
//! holds two chunks (one being stored while the next is prepared), never the whole file, and nothing is kept unless every document is; the
//! transaction lasts as long as the server's work, not as long as the client's upload.
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use cqrs_es::persist::SerializedEvent;
use serde_json::Value;
use tokio::fs::File;
use tokio::io::{AsyncBufReadExt, AsyncSeekExt, AsyncWriteExt, BufReader, BufWriter, Lines};

use annals_contracts::{LogError, Position};
use annals_domain::datacube::{Collection, DocumentCommand, DocumentError, document::stream_id};

use super::documents::{at_item, check_size, collection_name};
use super::{ATTEMPTS, Datacube};
use crate::adapters::append::EventChunks;
use crate::es::commands::{CommandError, Metadata};
use crate::services::error::AppError;
use crate::services::workspaces::service::object_id;

/// The request field an import's documents are named under (`json_file[9999].age`).
const FILE: &str = "json_file";
/// Most documents appended by one statement.
const CHUNK: usize = 1000;
/// The staging file's buffer: each write or read of the file is a trip to the blocking pool.
const BUFFER: usize = 1 << 20;

fn unavailable(e: std::io::Error) -> AppError {
    AppError::Unavailable(format!("import staging: {e}"))
}

/// An upload's documents, one JSON line each, in a temporary file.
pub struct Staged {
    file: BufWriter<File>,
    count: usize,
}

impl Staged {
    pub fn new() -> Result<Staged, AppError> {
        let file = tempfile::tempfile().map_err(unavailable)?;
        Ok(Staged {
            file: BufWriter::with_capacity(BUFFER, File::from_std(file)),
            count: 0,
        })
    }

    /// Stages the next document, valid JSON as the client sent it: a raw line break in valid
    /// JSON is whitespace, so it becomes a space and the document one line.
    pub async fn push_raw(&mut self, document: &[u8]) -> Result<(), AppError> {
        let mut line = Vec::with_capacity(document.len() + 1);
        line.extend(document.iter().map(|&b| if b == b'\n' { b' ' } else { b }));
        line.push(b'\n');
        self.file.write_all(&line).await.map_err(unavailable)?;
        self.count += 1;
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    async fn finish(mut self) -> Result<File, AppError> {
        self.file.flush().await.map_err(unavailable)?;
        Ok(self.file.into_inner())
    }
}

/// The staged documents read back from the start.
async fn read_back(file: &mut File) -> Result<Lines<BufReader<&mut File>>, AppError> {
    file.rewind().await.map_err(unavailable)?;
    Ok(BufReader::with_capacity(BUFFER, file).lines())
}

/// A staged document and its `_id` (`None`: to be generated), as [`Datacube::insert`] takes
/// them apart.
fn document(
    line: &str,
    index: usize,
) -> Result<(Option<String>, serde_json::Map<String, Value>), AppError> {
    let item = format!("{FILE}[{index}]");
    let mut body = match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(body)) => body,
        Ok(_) => return Err(AppError::invalid(item, "must be a JSON object")),
        Err(e) => return Err(AppError::invalid(item, format!("is not valid JSON ({e})"))),
    };
    let id = match body.remove("_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id),
        Some(_) => return Err(AppError::invalid(format!("{item}._id"), "must be a string")),
    };
    Ok((id, body))
}

/// The events of the staged documents, a chunk at a time: the collection's creation (if it is
/// new) first, then each document's insert from its aggregate. A refused document ends the
/// append (nothing is kept) with its reason in `failure`.
struct Inserts<'a> {
    datacube: &'a Datacube,
    lines: Lines<BufReader<&'a mut File>>,
    /// Events to append before the documents' (the collection's creation).
    head: Vec<SerializedEvent>,
    database_id: &'a str,
    target: Collection,
    metadata: &'a Metadata,
    at: DateTime<Utc>,
    /// Client-chosen ids so far: one file cannot hold an id twice.
    seen: HashSet<String>,
    index: usize,
    failure: Option<AppError>,
}

impl Inserts<'_> {
    async fn events_of(&mut self, line: &str) -> Result<Vec<SerializedEvent>, AppError> {
        let index = self.index;
        self.index += 1;
        let item = format!("{FILE}[{index}]");
        let (id, body) = document(line, index)?;
        let id = match id {
            Some(id) => {
                if !self.seen.insert(id.clone()) {
                    return Err(AppError::Duplicate {
                        field: format!("{item}._id"),
                        message: "appears twice in the file".into(),
                    });
                }
                id
            }
            None => object_id(self.at),
        };
        let insert = DocumentCommand::Insert {
            database_id: self.database_id.to_string(),
            collection: self.target.clone(),
            document_id: id.clone(),
            body,
            at: self.at,
        };
        let prepared = self
            .datacube
            .documents
            .prepare(
                &stream_id(&self.target.collection_id, &id),
                insert,
                self.metadata,
                true,
            )
            .await
            .map_err(|e| at_item(&item, e))?;
        for event in &prepared.events {
            check_size(event, &item)?;
        }
        Ok(prepared.events)
    }

    async fn chunk(&mut self) -> Result<Option<Vec<SerializedEvent>>, AppError> {
        let mut events = std::mem::take(&mut self.head);
        let mut documents = 0;
        while documents < CHUNK {
            let Some(line) = self.lines.next_line().await.map_err(unavailable)? else {
                break;
            };
            events.extend(self.events_of(&line).await?);
            documents += 1;
        }
        Ok((!events.is_empty()).then_some(events))
    }
}

#[async_trait::async_trait]
impl EventChunks for Inserts<'_> {
    async fn next_chunk(&mut self) -> Result<Option<Vec<SerializedEvent>>, LogError> {
        match self.chunk().await {
            Ok(chunk) => Ok(chunk),
            Err(e) => {
                self.failure = Some(e);
                Err(LogError("the import was refused".into()))
            }
        }
    }
}

impl Datacube {
    /// Inserts the staged documents into the collection (created without a schema if
    /// missing), all or none, and answers where they landed.
    pub async fn import(
        &self,
        owner: &str,
        database_id: &str,
        collection: &str,
        staged: Staged,
        metadata: &Metadata,
    ) -> Result<Position, AppError> {
        let collection = collection_name(collection, "collection_name")?;
        let mut file = staged.finish().await?;
        let at = Utc::now();
        for _ in 0..ATTEMPTS {
            let (head, target) = self
                .collection_for_insert(owner, database_id, &collection, metadata)
                .await?;
            let collection_id = target.collection_id.clone();
            let mut inserts = Inserts {
                datacube: self,
                lines: read_back(&mut file).await?,
                head,
                database_id,
                target,
                metadata,
                at,
                seen: HashSet::new(),
                index: 0,
                failure: None,
            };
            let outcome = self.together.append_chunked(&mut inserts).await;
            let failure = inserts.failure.take();
            match outcome {
                Ok(Some(position)) => return Ok(position),
                Ok(None) => {
                    // An id of the file is taken, or the database changed: say which id, or
                    // try again on the database as it is now.
                    self.taken_id(&mut file, &collection_id, database_id, metadata)
                        .await?;
                }
                Err(e) => return Err(failure.unwrap_or_else(|| e.into())),
            }
        }
        Err(AppError::Conflict)
    }

    /// The first staged document whose `_id` the collection already has, as a 409.
    async fn taken_id(
        &self,
        file: &mut File,
        collection_id: &str,
        database_id: &str,
        metadata: &Metadata,
    ) -> Result<(), AppError> {
        let mut lines = read_back(file).await?;
        let mut index = 0;
        while let Some(line) = lines.next_line().await.map_err(unavailable)? {
            if let (Some(id), body) = document(&line, index)? {
                let insert = DocumentCommand::Insert {
                    database_id: database_id.to_string(),
                    collection: Collection {
                        collection_id: collection_id.to_string(),
                        name: String::new(),
                        fields: vec![],
                    },
                    document_id: id.clone(),
                    body,
                    at: Utc::now(),
                };
                match self
                    .documents
                    .prepare(&stream_id(collection_id, &id), insert, metadata, false)
                    .await
                {
                    Err(e @ CommandError::Domain(DocumentError::AlreadyExists)) => {
                        return Err(at_item(&format!("{FILE}[{index}]"), e));
                    }
                    Ok(_) | Err(CommandError::Domain(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            index += 1;
        }
        Ok(())
    }
}
