//! Typed views of a model, as Zou serves them beside the model's own routes: `/data/assets`,
//! `/data/shots`, ... are the entities of one kind, `/data/asset-types` the entity types that
//! are not temporal. A view is data, like a model: which records it shows, how it names them,
//! and the query keys it reads as fields.
/// The entity types that are not asset types (Zou's "temporal" types): an entity of one of
/// them is of that kind, any other entity is an `Asset`.
pub const TEMPORAL_KINDS: &[&str] = &["Shot", "Sequence", "Episode", "Edit", "Scene", "Concept"];

/// Which records of its model a view shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Only {
    /// Those whose `field` is `value`.
    Is(&'static str, &'static str),
    /// Those whose `field` is none of these.
    NoneOf(&'static str, &'static [&'static str]),
}

impl Only {
    /// Whether a record whose field `field` reads shows in the view.
    pub fn shows(self, value: Option<&serde_json::Value>) -> bool {
        let text = value.and_then(serde_json::Value::as_str);
        match self {
            Only::Is(_, wanted) => text == Some(wanted),
            Only::NoneOf(_, excluded) => !text.is_some_and(|t| excluded.contains(&t)),
        }
    }

    pub fn field(self) -> &'static str {
        match self {
            Only::Is(field, _) | Only::NoneOf(field, _) => field,
        }
    }
}

/// A key a single read of a view adds to the record (Zou's `project_name`, `sequence_id`...).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Extra {
    /// `key` holds the value of the field `from`.
    Same {
        key: &'static str,
        from: &'static str,
    },
    /// `key` holds the `name` of the record the reference `from` points at.
    NameOf {
        key: &'static str,
        from: &'static str,
    },
    /// `key` holds Zou's short person (id, names, avatar, role) whose id is in `from` (a
    /// comment's author).
    PersonOf {
        key: &'static str,
        from: &'static str,
    },
    /// Each entry of the list `list` gets `key`, the short person whose id is in its `from`
    /// (a comment's replies and their authors).
    EntriesPersonOf {
        list: &'static str,
        key: &'static str,
        from: &'static str,
    },
}

const PROJECT_NAME: Extra = Extra::NameOf {
    key: "project_name",
    from: "project_id",
};

#[derive(Debug, PartialEq)]
pub struct View {
    /// The name in `/data/<route>`.
    pub route: &'static str,
    /// The route of the model it shows.
    pub model: &'static str,
    pub only: Only,
    /// The `type` its records are served with, when not the stored one (`AssetType`).
    pub type_name: Option<&'static str>,
    /// Query keys that filter on a field under another name (`sequence_id` is a shot's
    /// `parent_id`).
    pub aliases: &'static [(&'static str, &'static str)],
    /// Lists carry relations unless asked otherwise (Zou's asset types).
    pub relations: bool,
    /// What a single read adds.
    pub extras: &'static [Extra],
    /// Zou's refusal to delete, through this view, a record others point at (when it has its
    /// own; else the model's).
    pub referenced_message: Option<&'static str>,
}

const fn kind(route: &'static str, kind: &'static str) -> View {
    View {
        route,
        model: "entities",
        only: Only::Is("type", kind),
        type_name: None,
        aliases: &[],
        relations: false,
        extras: &[PROJECT_NAME],
        referenced_message: None,
    }
}

pub static VIEWS: &[View] = &[
    View {
        extras: &[
            PROJECT_NAME,
            Extra::Same {
                key: "asset_type_id",
                from: "entity_type_id",
            },
            Extra::NameOf {
                key: "asset_type_name",
                from: "entity_type_id",
            },
        ],
        ..kind("assets", "Asset")
    },
    View {
        aliases: &[("sequence_id", "parent_id")],
        extras: &[
            PROJECT_NAME,
            Extra::Same {
                key: "sequence_id",
                from: "parent_id",
            },
            Extra::NameOf {
                key: "sequence_name",
                from: "parent_id",
            },
        ],
        ..kind("shots", "Shot")
    },
    View {
        aliases: &[("episode_id", "parent_id")],
        extras: &[
            PROJECT_NAME,
            Extra::Same {
                key: "episode_id",
                from: "parent_id",
            },
            Extra::NameOf {
                key: "episode_name",
                from: "parent_id",
            },
        ],
        referenced_message: Some("Some data are still linked to this sequence."),
        ..kind("sequences", "Sequence")
    },
    View {
        referenced_message: Some("Some data are still linked to this episode."),
        ..kind("episodes", "Episode")
    },
    View {
        aliases: &[("episode_id", "parent_id")],
        ..kind("edits", "Edit")
    },
    View {
        route: "asset-types",
        model: "entity-types",
        only: Only::NoneOf("name", TEMPORAL_KINDS),
        type_name: Some("AssetType"),
        aliases: &[],
        relations: true,
        extras: &[],
        referenced_message: None,
    },
];

/// The view served at `/data/<route>`.
pub fn view(route: &str) -> Option<&'static View> {
    VIEWS.iter().find(|v| v.route == route)
}
