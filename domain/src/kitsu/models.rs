//! The model registry: Zou's models as data (reference section 3). A new model is an entry
//! here plus tests.
use super::access::{
    Access, Author, Clients, DepartmentOf, Departments, EntityOf, Rule, Rules, Vendors,
};
use super::registry::{
    Agreement, Clears, DateRange, Default as D, Field, FieldType as T, Lifecycle, Model, Periods,
    ProjectLink, Total, Unique,
};
use super::views::{Extra, TEMPORAL_KINDS};

const fn text(max: usize) -> T {
    T::Text { max: Some(max) }
}

const LONG_TEXT: T = T::Text { max: None };

const FOR_ENTITY: &[&str] = &["Asset", "Shot", "Sequence", "Episode", "Edit", "Concept"];

const PROJECT_STATUS: &[Field] = &[
    Field::new("name", text(20))
        .required()
        .unique(Unique::Exact),
    Field::new("color", text(7)).required(),
];

const NAME_COLOR_ARCHIVED: &[Field] = &[
    Field::new("name", text(80))
        .required()
        .unique(Unique::Exact),
    Field::new("color", text(7)).required(),
    Field::new("archived", T::Bool).default(D::Bool(false)),
];

const FILE_STATUS: &[Field] = &[
    Field::new("name", text(40))
        .required()
        .unique(Unique::Exact),
    Field::new("color", text(7)).required(),
];

const TASK_TYPE: &[Field] = &[
    Field::new("name", text(40))
        .required()
        .unique(Unique::CaseInsensitive),
    Field::new("short_name", text(20)),
    Field::new("description", LONG_TEXT),
    Field::new("color", text(7)).default(D::Text("#FFFFFF")),
    Field::new("priority", T::Int).default(D::Int(1)),
    Field::new("for_entity", T::Choice(FOR_ENTITY)).default(D::Text("Asset")),
    Field::new("allow_timelog", T::Bool).default(D::Bool(true)),
    Field::new("archived", T::Bool).default(D::Bool(false)),
    Field::new("shotgun_id", T::Int),
    Field::new("department_id", T::Reference("departments")),
];

const TASK_STATUS: &[Field] = &[
    Field::new("name", text(40)).required(),
    Field::new("short_name", text(10))
        .required()
        .unique(Unique::Exact),
    Field::new("color", text(7)).required(),
    Field::new("description", LONG_TEXT),
    Field::new("archived", T::Bool).default(D::Bool(false)),
    Field::new("priority", T::Int).default(D::Int(1)),
    Field::new("is_done", T::Bool).default(D::Bool(false)),
    Field::new("is_artist_allowed", T::Bool).default(D::Bool(true)),
    Field::new("is_client_allowed", T::Bool).default(D::Bool(true)),
    Field::new("is_retake", T::Bool).default(D::Bool(false)),
    Field::new("is_feedback_request", T::Bool).default(D::Bool(false)),
    Field::new("is_default", T::Bool).default(D::Bool(false)),
    Field::new("is_wip", T::Bool).default(D::Bool(false)),
    Field::new("for_concept", T::Bool).default(D::Bool(false)),
    Field::new("shotgun_id", T::Int),
];

const ENTITY_TYPE: &[Field] = &[
    Field::new("name", text(30))
        .required()
        .unique(Unique::CaseInsensitive),
    Field::new("short_name", text(20)),
    Field::new("description", LONG_TEXT),
    Field::new("archived", T::Bool).default(D::Bool(false)),
    Field::new("task_types", T::Relation("task-types")),
];

const ENTITY_STATUSES: &[&str] = &["standby", "running", "complete", "canceled"];

/// Zou 1.0.97's `Entity`: assets, shots, sequences, episodes and edits are all entities, told
/// apart by their entity type; `type` is that kind, fixed when the entity is made.
const ENTITY: &[Field] = &[
    Field::new("name", text(160)).required(),
    Field::new("code", text(160)),
    Field::new("description", LONG_TEXT),
    Field::new("shotgun_id", T::Int).protected(),
    flag("canceled", false),
    Field::new("nb_frames", T::Int),
    count("nb_entities_out"),
    flag("is_casting_standby", false),
    flag("is_shared", false),
    Field::new("status", T::Choice(ENTITY_STATUSES)).default(D::Text("running")),
    Field::new("project_id", T::Reference("projects")).required(),
    Field::new("entity_type_id", T::Reference("entity-types")).required(),
    Field::new("parent_id", T::Reference("entities")),
    Field::new("source_id", T::Reference("entities")),
    Field::new("preview_file_id", T::Reference("preview-files")),
    Field::new("data", T::Json).merged(),
    Field::new("ready_for", T::Reference("task-types")),
    Field::new("created_by", T::Reference("persons"))
        .server()
        .default(D::Author),
    Field::new("type", text(20)).server().default(D::KindOf {
        field: "entity_type_id",
        kinds: TEMPORAL_KINDS,
        otherwise: "Asset",
    }),
];

const PRODUCTION_STYLES: &[&str] = &[
    "2d",
    "2dpaper",
    "3d",
    "2d3d",
    "ar",
    "vfx",
    "stop-motion",
    "motion-design",
    "archviz",
    "commercial",
    "catalog",
    "immersive",
    "nft",
    "video-game",
    "vr",
];

const fn flag(name: &'static str, default: bool) -> Field {
    Field::new(name, T::Bool).default(D::Bool(default))
}

const fn count(name: &'static str) -> Field {
    Field::new(name, T::Int).default(D::Int(0))
}

/// Zou 1.0.97's `Project` (fields and defaults as its create answers them). A missing
/// `project_status_id` is the "Open" status, which the service resolves.
const PROJECT: &[Field] = &[
    Field::new("name", text(80))
        .required()
        .unique(Unique::Exact),
    Field::new("code", text(80)),
    Field::new("description", LONG_TEXT),
    Field::new("shotgun_id", T::Int),
    Field::new("file_tree", T::Json),
    Field::new("data", T::Json),
    flag("has_avatar", false),
    Field::new("fps", text(10)).default(D::Text("25")),
    Field::new("ratio", text(10)).default(D::Text("16:9")),
    Field::new("resolution", text(12)).default(D::Text("1920x1080")),
    Field::new("production_type", text(20)).default(D::Text("short")),
    Field::new("production_style", T::Choice(PRODUCTION_STYLES)).default(D::Text("2d3d")),
    Field::new("start_date", T::Date),
    Field::new("end_date", T::Date),
    Field::new("man_days", T::Int),
    count("nb_episodes"),
    count("episode_span"),
    count("max_retakes"),
    flag("is_clients_isolated", false),
    flag("is_client_stats_visible", true),
    flag("is_client_task_list_visible", true),
    flag("is_client_task_panel_visible", true),
    flag("is_preview_download_allowed", false),
    flag("is_set_preview_automated", false),
    Field::new("homepage", text(80)).default(D::Text("assets")),
    flag("is_publish_default_for_artists", false),
    flag("is_bot_collaboration_enabled", false),
    flag("is_single_preview_per_revision", false),
    flag("is_frame_in_numbering", false),
    count("revision_padding"),
    Field::new("hd_bitrate_compression", T::Int),
    Field::new("ld_bitrate_compression", T::Int),
    Field::new("project_status_id", T::Reference("project-status")).default(D::Named {
        route: "project-status",
        name: "Open",
        color: "#000000",
    }),
    Field::new(
        "default_preview_background_file_id",
        T::Reference("preview-background-files"),
    ),
    Field::new(
        "from_schedule_version_id",
        T::Reference("schedule-versions"),
    ),
    Field::new("team", T::Relation("persons")),
    Field::new("asset_types", T::Relation("entity-types")),
    Field::new("task_statuses", T::Relation("task-status")),
    Field::new("task_types", T::Relation("task-types")),
    Field::new("status_automations", T::Relation("status-automations")),
    Field::new(
        "preview_background_files",
        T::Relation("preview-background-files"),
    ),
];

const fn number(name: &'static str) -> Field {
    Field::new(name, T::Float).default(D::Float(0.0))
}

/// Zou 1.0.97's `Task`: one piece of work of a task type on an entity, with its status and
/// assignees. A missing `task_status_id` is the status flagged `is_default`.
const TASK: &[Field] = &[
    Field::new("name", text(80))
        .required()
        .default(D::Text("main")),
    Field::new("description", LONG_TEXT),
    count("priority"),
    Field::new("difficulty", T::Int).default(D::Int(3)),
    number("duration"),
    number("estimation"),
    count("completion_rate"),
    count("retake_count"),
    count("sort_order"),
    Field::new("start_date", T::DateTime),
    Field::new("due_date", T::DateTime),
    Field::new("real_start_date", T::DateTime),
    Field::new("end_date", T::DateTime),
    Field::new("done_date", T::DateTime),
    Field::new("last_comment_date", T::DateTime),
    count("nb_assets_ready"),
    Field::new("data", T::Json).merged(),
    count("nb_drawings"),
    Field::new("shotgun_id", T::Int),
    Field::new("last_preview_file_id", T::Reference("preview-files")),
    Field::new("project_id", T::Reference("projects")).required(),
    Field::new("task_type_id", T::Reference("task-types")).required(),
    Field::new("task_status_id", T::Reference("task-status")).default(D::Flagged {
        route: "task-status",
        field: "is_default",
    }),
    Field::new("entity_id", T::Reference("entities")).required(),
    Field::new("assigner_id", T::Reference("persons")),
    Field::new("assignees", T::Relation("persons")).updatable(),
];

/// Zou 1.0.97's `Comment` on a task (`object_id`); made by `POST
/// /actions/tasks/<id>/comment`, which also moves the task to the comment's status.
const COMMENT: &[Field] = &[
    Field::new("shotgun_id", T::Int),
    Field::new("object_id", T::Reference("tasks")).required(),
    Field::new("object_type", text(80))
        .required()
        .default(D::Text("Task")),
    Field::new("text", LONG_TEXT),
    Field::new("data", T::Json),
    Field::new("replies", T::Json).default(D::EmptyList),
    Field::new("checklist", T::Json).default(D::EmptyList),
    Field::new("pinned", T::Bool),
    flag("for_client", false),
    Field::new("links", T::Json).default(D::EmptyList),
    Field::new("task_status_id", T::Reference("task-status")).required(),
    Field::new("person_id", T::Reference("persons")).required(),
    Field::new("editor_id", T::Reference("persons")),
    Field::new("preview_file_id", T::Reference("preview-files")),
    Field::new("previews", T::Relation("preview-files")),
    Field::new("mentions", T::Relation("persons")),
    Field::new("department_mentions", T::Relation("departments")),
    Field::new("acknowledgements", T::Relation("persons")),
    Field::new("attachment_files", T::Relation("attachment-files")),
];

/// Zou 1.0.97's `Playlist`: a set of entities (with the preview to review of each) in a
/// project, for one episode or none. `created_by` is the maker; a duplicate name is refused
/// only within one episode (Zou's unique constraint admits many rows without episode).
const PLAYLIST: &[Field] = &[
    Field::new("name", text(80)).required(),
    Field::new("shots", T::Entries),
    Field::new("project_id", T::Reference("projects")).required(),
    Field::new("episode_id", T::Reference("entities")).lenient(),
    Field::new("task_type_id", T::Reference("task-types")).lenient(),
    flag("for_client", false),
    Field::new("for_entity", T::Choice(PLAYLIST_FOR_ENTITY))
        .default(D::Text("shot"))
        .refusal("for_entity must be one of shot, asset, sequence, edit, episode"),
    flag("is_for_all", false),
    Field::new("build_jobs", T::Relation("build-jobs")).server(),
    Field::new("created_by", T::Reference("persons"))
        .server()
        .default(D::Author),
];

const PLAYLIST_FOR_ENTITY: &[&str] = &["shot", "asset", "sequence", "edit", "episode"];

/// The maker of a record, while in the team of its project (Zou lets the creator of an
/// entity change it).
const CREATOR_IN_TEAM: Author = Author {
    field: "created_by",
    in_team: true,
    roles: &[],
    unset_counts: false,
};

/// The author of a comment, while in the team of its project.
const AUTHOR_IN_TEAM: Author = Author {
    field: "person_id",
    ..CREATOR_IN_TEAM
};

/// Zou's entity access: the project's team, and vendors only on the entities a task of which
/// is assigned to them.
const ENTITY_READ: Rule = Rule::of(Access::Member).vendors(Vendors::Assigned(EntityOf::Itself));

/// A task's access: its entity's.
const TASK_READ: Rule =
    Rule::of(Access::Member).vendors(Vendors::Assigned(EntityOf::Field("entity_id")));

/// Zou's playlist read: the project's team but its vendors, and clients only the playlists
/// shared with them.
const PLAYLIST_READ: Rule = Rule::of(Access::Member)
    .vendors(Vendors::Never)
    .clients(Clients {
        flag: "for_client",
        own: None,
    });

/// Zou's playlist update and delete: the project's production managers, or the supervisor of
/// its team who made it (a playlist made by nobody is any such supervisor's).
const PLAYLIST_WRITE: Rule = Rule::of(Access::Manager).or_author(Author {
    field: "created_by",
    in_team: true,
    roles: &["supervisor"],
    unset_counts: true,
});

const PLAYLISTS: Model = Model {
    route: "playlists",
    type_name: "Playlist",
    collection: "kitsu_playlists",
    fields: PLAYLIST,
    rules: Rules {
        list: PLAYLIST_READ,
        read: PLAYLIST_READ,
        create: Rule::of(Access::Supervisor),
        update: PLAYLIST_WRITE,
        delete: PLAYLIST_WRITE,
        lists_closed: true,
    },
    duplicate_message: None,
    project: ProjectLink::Field("project_id"),
    named_references: &[],
    lifecycle: None,
    detach_on_force: None,
    unique_together: &[&["name", "project_id", "episode_id"]],
    owns_on_force: &[],
    agreements: &[],
    periods: None,
    date_range: None,
    total: None,
    nulls_match: &[],
    extras: &[],
};

/// Everything for studio managers only: Zou's default for every hook.
const ADMIN_ONLY: Rules = Rules {
    list: Rule::of(Access::Admin),
    read: Rule::of(Access::Admin),
    create: Rule::of(Access::Admin),
    update: Rule::of(Access::Admin),
    delete: Rule::of(Access::Admin),
    lists_closed: false,
};

/// A model with no project, no special behaviour: only its fields and rules differ.
pub(crate) const fn plain(
    route: &'static str,
    type_name: &'static str,
    collection: &'static str,
    fields: &'static [Field],
    rules: Rules,
) -> Model {
    Model {
        route,
        type_name,
        collection,
        fields,
        rules,
        duplicate_message: None,
        project: ProjectLink::None,
        named_references: &[],
        lifecycle: None,
        detach_on_force: None,
        unique_together: &[],
        owns_on_force: &[],
        agreements: &[],
        periods: None,
        date_range: None,
        total: None,
        nulls_match: &[],
        extras: &[],
    }
}

const OUTPUT_TYPE: &[Field] = &[
    Field::new("name", text(40))
        .required()
        .unique(Unique::Exact),
    Field::new("short_name", text(20)).required(),
];

/// Zou 1.0.97's `Software`: a tool of the studio, which working files name.
const SOFTWARE: &[Field] = &[
    Field::new("name", text(40))
        .required()
        .unique(Unique::Exact),
    Field::new("short_name", text(20)).required(),
    flag("archived", false),
    Field::new("version", text(20)),
    Field::new("file_extension", text(20)).required(),
    Field::new("secondary_extensions", T::Json),
    count("monthly_cost"),
    count("inventory_amount"),
];

const CUSTOM_ACTION: &[Field] = &[
    Field::new("name", text(80)).required(),
    Field::new("url", text(400)),
    Field::new("entity_type", text(40)).default(D::Text("all")),
    flag("is_ajax", false),
];

const SEARCH_FILTER_GROUP: &[Field] = &[
    Field::new("list_type", text(80)).required(),
    Field::new("entity_type", text(80)),
    Field::new("name", text(200)).default(D::Text("")),
    Field::new("color", text(8)).default(D::Text("")),
    flag("is_shared", false),
    Field::new("person_id", T::Reference("persons")),
    Field::new("project_id", T::Reference("projects")),
    Field::new("department_id", T::Reference("departments")),
];

/// Zou refuses a duplicate name through the API (not the database). NOT NULL columns with
/// a default (here and below) take it when a create leaves them out.
const PREVIEW_BACKGROUND_FILE: &[Field] = &[
    Field::new("name", text(40))
        .required()
        .unique(Unique::Exact),
    flag("archived", false),
    flag("is_default", false).exclusive(),
    Field::new("original_name", text(250)),
    Field::new("extension", text(6)),
    count("file_size"),
];

const PLUGIN: &[Field] = &[
    Field::new("plugin_id", text(80))
        .required()
        .unique(Unique::Exact),
    Field::new("name", text(80)).required(),
    Field::new("description", LONG_TEXT),
    Field::new("version", text(50)).required(),
    Field::new("maintainer_name", text(200)).required(),
    Field::new("maintainer_email", text(255)),
    Field::new("website", text(255)),
    Field::new("license", text(80)).required(),
    Field::new("revision", text(12)),
    flag("frontend_project_enabled", false),
    flag("frontend_studio_enabled", false),
    Field::new("icon", text(255)),
];

const SUBSCRIPTION: &[Field] = &[
    Field::new("person_id", T::Reference("persons")).required(),
    Field::new("task_id", T::Reference("tasks")),
    Field::new("entity_id", T::Reference("entities")),
    Field::new("task_type_id", T::Reference("task-types")),
];

const DAY_OFF: &[Field] = &[
    Field::new("date", T::Date).required(),
    Field::new("end_date", T::Date).required(),
    Field::new("description", LONG_TEXT),
    Field::new("person_id", T::Reference("persons")).required(),
];

const TIME_SPENT: &[Field] = &[
    Field::new("duration", T::Float).required(),
    Field::new("date", T::Date).required(),
    Field::new("task_id", T::Reference("tasks")),
    Field::new("person_id", T::Reference("persons")),
];

const ASSET_INSTANCE: &[Field] = &[
    Field::new("asset_id", T::Reference("entities")).required(),
    Field::new("name", text(80)),
    Field::new("number", T::Int).protected(),
    Field::new("description", text(200)),
    flag("active", true),
    Field::new("data", T::Json),
    Field::new("scene_id", T::Reference("entities")),
    Field::new("target_asset_id", T::Reference("entities")),
    Field::new("entity_id", T::Reference("entities")),
    Field::new("entity_type_id", T::Reference("entity-types")),
];

const WORKING_FILE: &[Field] = &[
    Field::new("name", text(250)),
    Field::new("description", LONG_TEXT),
    Field::new("comment", LONG_TEXT),
    Field::new("revision", T::Int),
    Field::new("size", T::Int),
    Field::new("checksum", T::Int),
    Field::new("path", text(400)),
    Field::new("data", T::Json),
    Field::new("task_id", T::Reference("tasks")),
    Field::new("entity_id", T::Reference("entities")),
    Field::new("person_id", T::Reference("persons")),
    Field::new("software_id", T::Reference("softwares")),
    Field::new("outputs", T::Relation("output-files")),
];

const ATTACHMENT_FILE: &[Field] = &[
    Field::new("name", text(250)),
    Field::new("size", T::Int).default(D::Int(1)),
    Field::new("extension", text(6)),
    Field::new("mimetype", text(255)),
    Field::new("comment_id", T::Reference("comments")),
    Field::new("reply_id", T::Reference("replies")),
    Field::new("chat_message_id", T::Reference("chat-messages")),
];

const PREVIEW_STATUSES: &[&str] = &["processing", "ready", "broken", "missing"];
const VALIDATION_STATUSES: &[&str] = &["validated", "rejected", "neutral"];

const PREVIEW_FILE: &[Field] = &[
    Field::new("name", text(250)),
    Field::new("original_name", text(250)),
    Field::new("revision", T::Int).default(D::Int(1)),
    Field::new("position", T::Int).default(D::Int(1)),
    Field::new("extension", text(6)),
    Field::new("description", LONG_TEXT),
    Field::new("path", text(400)),
    Field::new("source", text(40)),
    count("file_size"),
    Field::new("status", T::Choice(PREVIEW_STATUSES)).default(D::Text("processing")),
    Field::new("validation_status", T::Choice(VALIDATION_STATUSES)).default(D::Text("neutral")),
    Field::new("annotations", T::Json),
    count("width"),
    count("height"),
    number("duration"),
    Field::new("data", T::Json),
    Field::new("token_in", text(80)),
    Field::new("token_out", text(80)),
    Field::new("task_id", T::Reference("tasks")),
    Field::new("person_id", T::Reference("persons")),
    Field::new("source_file_id", T::Reference("output-files")),
    Field::new("shotgun_id", T::Int).unique(Unique::Exact),
    flag("is_movie", false),
    Field::new("url", text(600)),
    Field::new("uploaded_movie_url", text(600)),
    Field::new("uploaded_movie_name", text(150)),
];

const ENTITY_LINK: &[Field] = &[
    Field::new("entity_in_id", T::Reference("entities")).required(),
    Field::new("entity_out_id", T::Reference("entities")).required(),
    Field::new("data", T::Json),
    Field::new("nb_occurences", T::Int).default(D::Int(1)),
    Field::new("label", text(80)).default(D::Text("")),
];

/// The owner of a record (Zou's day off and time spent `person_id`), wherever they are.
const OWNER: Author = Author {
    field: "person_id",
    in_team: false,
    roles: &[],
    unset_counts: false,
};

/// The entity of a record's task, for the vendors' assignment rule.
const TASK_ENTITY: EntityOf = EntityOf::Via {
    field: "task_id",
    route: "tasks",
    entity: "entity_id",
};

const VIA_TASK: ProjectLink = ProjectLink::Via {
    field: "task_id",
    route: "tasks",
};

/// Zou's working-file and preview-file read: the team of the task's project, vendors only
/// on the entities they have a task of.
const TASK_FILE_READ: Rule = Rule::of(Access::Member).vendors(Vendors::Assigned(TASK_ENTITY));

const OUTPUT_TYPES: Model = plain(
    "output-types",
    "OutputType",
    "kitsu_output_types",
    OUTPUT_TYPE,
    Rules::REFERENCE,
);

/// Zou 1.0.97's `Budget`: a quote for a project, numbered by `revision` within it (the
/// project's budget routes number it; through `/data/budgets` it is given or 1).
const BUDGET: &[Field] = &[
    Field::new("project_id", T::Reference("projects")).protected(),
    Field::new("revision", T::Int)
        .default(D::Int(1))
        .protected(),
    Field::new("name", text(255)).required(),
    Field::new("currency", text(3)),
];

const POSITIONS: &[&str] = &["supervisor", "lead", "artist"];
const SENIORITIES: &[&str] = &["senior", "mid", "junior"];

/// Zou 1.0.97's `BudgetEntry`: what a person (or a position to fill) of a department costs a
/// budget over some months; `exceptions` holds months of other durations.
const BUDGET_ENTRY: &[Field] = &[
    Field::new("budget_id", T::Reference("budgets"))
        .required()
        .protected(),
    Field::new("department_id", T::Reference("departments")).required(),
    Field::new("person_id", T::Reference("persons")),
    Field::new("start_date", T::Date).required(),
    Field::new("months_duration", T::Int).required(),
    Field::new("daily_salary", T::Float).required(),
    Field::new("position", T::Choice(POSITIONS)).default(D::Text("artist")),
    Field::new("seniority", T::Choice(SENIORITIES)).default(D::Text("mid")),
    Field::new("exceptions", T::Json),
];

/// Zou's budgets through `/data/budgets`: studio managers only (its default); the project's
/// routes (`/data/projects/<id>/budgets`) let its production managers in too. Deleting one
/// deletes its entries.
const BUDGETS: Model = Model {
    project: ProjectLink::Field("project_id"),
    owns_on_force: &["budget-entries"],
    ..plain("budgets", "Budget", "kitsu_budgets", BUDGET, ADMIN_ONLY)
};

const BUDGET_ENTRIES: Model = Model {
    project: ProjectLink::Via {
        field: "budget_id",
        route: "budgets",
    },
    ..plain(
        "budget-entries",
        "BudgetEntry",
        "kitsu_budget_entries",
        BUDGET_ENTRY,
        ADMIN_ONLY,
    )
};

/// What a metadata descriptor describes (Zou 1.0.97's list; `Task` ones name a task type).
pub const METADATA_ENTITY_TYPES: &[&str] = &[
    "Asset", "Shot", "Edit", "Episode", "Sequence", "Project", "Task",
];

/// Zou 1.0.97's `METADATA_DESCRIPTOR_TYPES`.
pub const METADATA_DATA_TYPES: &[&str] = &[
    "string",
    "number",
    "list",
    "taglist",
    "boolean",
    "checklist",
    "date",
    "url",
    "textarea",
    "person",
];

/// Zou 1.0.97's `MetadataDescriptor`: an extra field of a project's records of one entity
/// type, kept in their `data` under `field_name` (the slug of `name`, which the project's
/// routes derive).
const METADATA_DESCRIPTOR: &[Field] = &[
    Field::new("project_id", T::Reference("projects"))
        .required()
        .protected(),
    Field::new("entity_type", text(60)).required().protected(),
    Field::new("task_type_id", T::Reference("task-types")).protected(),
    Field::new("name", text(120)).required(),
    Field::new("data_type", T::Choice(METADATA_DATA_TYPES)),
    Field::new("field_name", text(120)).required(),
    Field::new("choices", T::Json),
    flag("for_client", false),
    Field::new("position", T::Int),
    Field::new("departments", T::Relation("departments")).updatable(),
];

/// Zou's metadata descriptors through `/data/metadata-descriptors`: the teams of their
/// projects list them (clients only those for clients), studio managers do the rest; the
/// project's routes (`/data/projects/<id>/metadata-descriptors`) let its production managers
/// and supervisors write. Names and field names are unique per project and entity type (and
/// task type, for `Task` ones).
const METADATA_DESCRIPTORS: Model = Model {
    project: ProjectLink::Field("project_id"),
    duplicate_message: Some("Metadata descriptor already exists."),
    // Zou's partial unique indexes: per task type for `Task` ones, per entity type for the
    // others (whose task type is null, which must then match).
    unique_together: &[
        &["name", "project_id", "entity_type", "task_type_id"],
        &["field_name", "project_id", "entity_type", "task_type_id"],
    ],
    nulls_match: &["task_type_id"],
    ..plain(
        "metadata-descriptors",
        "MetadataDescriptor",
        "kitsu_metadata_descriptors",
        METADATA_DESCRIPTOR,
        Rules {
            list: Rule::of(Access::Member).clients(Clients {
                flag: "for_client",
                own: None,
            }),
            ..ADMIN_ONLY
        },
    )
};

/// Zou's softwares: anyone signed in reads them, studio managers write them.
const SOFTWARES: Model = plain(
    "softwares",
    "Software",
    "kitsu_softwares",
    SOFTWARE,
    Rules::REFERENCE,
);

const CUSTOM_ACTIONS: Model = plain(
    "custom-actions",
    "CustomAction",
    "kitsu_custom_actions",
    CUSTOM_ACTION,
    Rules {
        list: Rule::of(Access::Anyone).vendors(Vendors::Never),
        ..ADMIN_ONLY
    },
);

const SEARCH_FILTER_GROUPS: Model = plain(
    "search-filter-groups",
    "SearchFilterGroup",
    "kitsu_search_filter_groups",
    SEARCH_FILTER_GROUP,
    ADMIN_ONLY,
);

const PREVIEW_BACKGROUND_FILES: Model = Model {
    duplicate_message: Some("A preview background file with similar name already exists"),
    ..plain(
        "preview-background-files",
        "PreviewBackgroundFile",
        "kitsu_preview_background_files",
        PREVIEW_BACKGROUND_FILE,
        Rules::REFERENCE,
    )
};

const PLUGINS: Model = plain("plugins", "Plugin", "kitsu_plugins", PLUGIN, ADMIN_ONLY);

const SUBSCRIPTIONS: Model = Model {
    unique_together: &[
        &["person_id", "task_id"],
        &["person_id", "task_type_id", "entity_id"],
    ],
    ..plain(
        "subscriptions",
        "Subscription",
        "kitsu_subscriptions",
        SUBSCRIPTION,
        ADMIN_ONLY,
    )
};

/// Zou's day offs: studio managers list them; the person a day off is for (or a studio
/// manager) reads, makes, changes and removes it.
const DAY_OFFS: Model = Model {
    unique_together: &[&["person_id", "date"]],
    periods: Some(Periods {
        owner: "person_id",
        start: "date",
        end: "end_date",
        overlap_message: "Day off already exists for this period",
        clears: Some(Clears {
            route: "time-spents",
            owner: "person_id",
            date: "date",
        }),
    }),
    ..plain(
        "day-offs",
        "DayOff",
        "kitsu_day_offs",
        DAY_OFF,
        Rules {
            list: Rule::of(Access::Admin),
            read: Rule::of(Access::Admin).or_author(OWNER),
            create: Rule::of(Access::Admin).or_author(OWNER),
            update: Rule::of(Access::Admin).or_author(OWNER),
            delete: Rule::of(Access::Admin).or_author(OWNER),
            lists_closed: false,
        },
    )
};

/// Zou's time spents: studio managers only, but the person who spent it or the production
/// managers of the task's project remove one.
const TIME_SPENTS: Model = Model {
    unique_together: &[&["person_id", "task_id", "date"]],
    date_range: Some(DateRange {
        field: "date",
        from: "start_date",
        to: "end_date",
    }),
    total: Some(Total {
        of: "duration",
        via: "task_id",
        route: "tasks",
        into: "duration",
    }),
    project: VIA_TASK,
    ..plain(
        "time-spents",
        "TimeSpent",
        "kitsu_time_spents",
        TIME_SPENT,
        Rules {
            delete: Rule::of(Access::Manager).or_author(OWNER),
            ..ADMIN_ONLY
        },
    )
};

/// Zou's asset instances: read and changed with the access to their asset.
const ASSET_INSTANCES: Model = Model {
    unique_together: &[&["asset_id", "target_asset_id", "scene_id", "number"]],
    project: ProjectLink::Via {
        field: "asset_id",
        route: "entities",
    },
    ..plain(
        "asset-instances",
        "AssetInstance",
        "kitsu_asset_instances",
        ASSET_INSTANCE,
        Rules {
            read: Rule::of(Access::Member).vendors(Vendors::Assigned(EntityOf::Field("asset_id"))),
            update: Rule::of(Access::Member)
                .vendors(Vendors::Assigned(EntityOf::Field("asset_id"))),
            ..ADMIN_ONLY
        },
    )
};

/// Zou's working files. Its update asks "task action access" (production managers, the
/// department's supervisors, the assignees); annals asks the production managers only.
const WORKING_FILES: Model = Model {
    unique_together: &[&["name", "task_id", "entity_id", "revision"]],
    project: VIA_TASK,
    ..plain(
        "working-files",
        "WorkingFile",
        "kitsu_working_files",
        WORKING_FILE,
        Rules {
            list: Rule::of(Access::Member).vendors(Vendors::Never),
            read: TASK_FILE_READ,
            update: Rule::of(Access::Manager),
            ..ADMIN_ONLY
        },
    )
};

/// Zou's attachment files. Zou lets whoever reaches the comment's task read one; annals
/// keeps the read to studio managers (the comment's project is two records away).
const ATTACHMENT_FILES: Model = plain(
    "attachment-files",
    "AttachmentFile",
    "kitsu_attachment_files",
    ATTACHMENT_FILE,
    ADMIN_ONLY,
);

/// Zou's preview files. Its update lets the task's assignees too; annals asks the
/// production managers of the project.
const PREVIEW_FILES: Model = Model {
    unique_together: &[&["name", "task_id", "revision"]],
    project: VIA_TASK,
    ..plain(
        "preview-files",
        "PreviewFile",
        "kitsu_preview_files",
        PREVIEW_FILE,
        Rules {
            list: TASK_FILE_READ,
            read: TASK_FILE_READ,
            create: Rule::of(Access::Admin),
            update: Rule::of(Access::Manager),
            delete: Rule::of(Access::Manager),
            lists_closed: false,
        },
    )
};

const ENTITY_LINKS: Model = Model {
    unique_together: &[&["entity_in_id", "entity_out_id"]],
    ..plain(
        "entity-links",
        "EntityLink",
        "kitsu_entity_links",
        ENTITY_LINK,
        ADMIN_ONLY,
    )
};

/// Every model served by the generic routes.
pub static MODELS: &[Model] = &[
    Model {
        route: "project-status",
        type_name: "ProjectStatus",
        collection: "kitsu_project_status",
        fields: PROJECT_STATUS,
        rules: Rules::REFERENCE,
        duplicate_message: None,
        project: ProjectLink::None,
        named_references: &[],
        lifecycle: None,
        detach_on_force: None,
        unique_together: &[],
        owns_on_force: &[],
        agreements: &[],
        periods: None,
        date_range: None,
        total: None,
        nulls_match: &[],
        extras: &[],
    },
    Model {
        route: "task-types",
        type_name: "TaskType",
        collection: "kitsu_task_types",
        fields: TASK_TYPE,
        rules: Rules::REFERENCE,
        duplicate_message: Some("A task type with similar name already exists"),
        project: ProjectLink::None,
        named_references: &[],
        lifecycle: None,
        detach_on_force: Some(
            "Task type is attached to projects. Re-issue the request with force=true to detach.",
        ),
        unique_together: &[],
        owns_on_force: &[],
        agreements: &[],
        periods: None,
        date_range: None,
        total: None,
        nulls_match: &[],
        extras: &[],
    },
    Model {
        route: "task-status",
        type_name: "TaskStatus",
        collection: "kitsu_task_status",
        fields: TASK_STATUS,
        rules: Rules::REFERENCE,
        duplicate_message: None,
        project: ProjectLink::None,
        named_references: &[],
        lifecycle: None,
        detach_on_force: None,
        unique_together: &[],
        owns_on_force: &[],
        agreements: &[],
        periods: None,
        date_range: None,
        total: None,
        nulls_match: &[],
        extras: &[],
    },
    Model {
        route: "departments",
        type_name: "Department",
        collection: "kitsu_departments",
        fields: NAME_COLOR_ARCHIVED,
        rules: Rules::REFERENCE,
        duplicate_message: None,
        project: ProjectLink::None,
        named_references: &[],
        lifecycle: None,
        detach_on_force: None,
        unique_together: &[],
        owns_on_force: &[],
        agreements: &[],
        periods: None,
        date_range: None,
        total: None,
        nulls_match: &[],
        extras: &[],
    },
    Model {
        route: "studios",
        type_name: "Studio",
        collection: "kitsu_studios",
        fields: NAME_COLOR_ARCHIVED,
        rules: Rules::REFERENCE,
        duplicate_message: None,
        project: ProjectLink::None,
        named_references: &[],
        lifecycle: None,
        detach_on_force: None,
        unique_together: &[],
        owns_on_force: &[],
        agreements: &[],
        periods: None,
        date_range: None,
        total: None,
        nulls_match: &[],
        extras: &[],
    },
    Model {
        route: "file-status",
        type_name: "FileStatus",
        collection: "kitsu_file_status",
        fields: FILE_STATUS,
        rules: Rules::REFERENCE,
        duplicate_message: None,
        project: ProjectLink::None,
        named_references: &[],
        lifecycle: None,
        detach_on_force: None,
        unique_together: &[],
        owns_on_force: &[],
        agreements: &[],
        periods: None,
        date_range: None,
        total: None,
        nulls_match: &[],
        extras: &[],
    },
    Model {
        route: "entity-types",
        type_name: "EntityType",
        collection: "kitsu_entity_types",
        fields: ENTITY_TYPE,
        rules: Rules::REFERENCE,
        duplicate_message: None,
        project: ProjectLink::None,
        named_references: &[],
        lifecycle: None,
        detach_on_force: None,
        unique_together: &[],
        owns_on_force: &[],
        agreements: &[],
        periods: None,
        date_range: None,
        total: None,
        nulls_match: &[],
        extras: &[],
    },
    Model {
        route: "entities",
        type_name: "Entity",
        collection: "kitsu_entities",
        fields: ENTITY,
        rules: Rules {
            list: ENTITY_READ,
            read: ENTITY_READ,
            create: Rule::of(Access::Manager),
            update: Rule::of(Access::Manager)
                .or_author(CREATOR_IN_TEAM)
                .supervisors(ENTITY_SUPERVISORS),
            delete: Rule::of(Access::Manager).or_author(Author {
                in_team: false,
                ..CREATOR_IN_TEAM
            }),
            lists_closed: false,
        },
        duplicate_message: None,
        project: ProjectLink::Field("project_id"),
        named_references: &[],
        lifecycle: None,
        detach_on_force: None,
        unique_together: &[&["name", "project_id", "entity_type_id", "parent_id"]],
        owns_on_force: &["tasks"],
        agreements: &[],
        periods: None,
        date_range: None,
        total: None,
        nulls_match: &[],
        extras: &[],
    },
    Model {
        route: "projects",
        type_name: "Project",
        collection: "kitsu_projects",
        fields: PROJECT,
        rules: Rules {
            list: Rule::of(Access::Member),
            read: Rule::of(Access::Member),
            create: Rule::of(Access::Admin),
            update: Rule::of(Access::Manager),
            delete: Rule::of(Access::Admin),
            lists_closed: false,
        },
        duplicate_message: None,
        project: ProjectLink::Itself,
        named_references: &["project_status_id"],
        lifecycle: Some(Lifecycle {
            field: "project_status_id",
            open_name: "Open",
            delete_open_message: "Only closed projects can be deleted",
        }),
        detach_on_force: None,
        unique_together: &[],
        owns_on_force: &[
            "playlists",
            "tasks",
            "budgets",
            "metadata-descriptors",
            "entities",
        ],
        agreements: &[],
        periods: None,
        date_range: None,
        total: None,
        nulls_match: &[],
        extras: &[],
    },
    TASKS,
    COMMENTS,
    PLAYLISTS,
    OUTPUT_TYPES,
    CUSTOM_ACTIONS,
    SEARCH_FILTER_GROUPS,
    PREVIEW_BACKGROUND_FILES,
    PLUGINS,
    SUBSCRIPTIONS,
    DAY_OFFS,
    TIME_SPENTS,
    ASSET_INSTANCES,
    WORKING_FILES,
    ATTACHMENT_FILES,
    PREVIEW_FILES,
    ENTITY_LINKS,
    SOFTWARES,
    BUDGETS,
    BUDGET_ENTRIES,
    METADATA_DESCRIPTORS,
];

/// Zou 1.0.97's `check_metadata_department_access`: a supervisor of the team changes an
/// entity's `data` alone, the keys of their departments' metadata descriptors; annals does
/// not consult the descriptors there yet, so (as Zou without them) only supervisors without
/// departments may.
const ENTITY_SUPERVISORS: Departments = Departments {
    department: DepartmentOf::Nobody,
    fields: &["data"],
};

/// Zou 1.0.97's `check_supervisor_task_access`: a supervisor of the team changes the
/// planning of the tasks of their departments, nothing else.
const TASK_SUPERVISORS: Departments = Departments {
    department: DepartmentOf::TaskType("task_type_id"),
    fields: &[
        "priority",
        "start_date",
        "due_date",
        "estimation",
        "difficulty",
        "data",
    ],
};

const TASKS: Model = Model {
    route: "tasks",
    type_name: "Task",
    collection: "kitsu_tasks",
    fields: TASK,
    // Zou 1.0.97 checks no role on a task create (anyone signed in makes one in any
    // project); annals asks what an entity create asks.
    rules: Rules {
        list: Rule::of(Access::Member).vendors(Vendors::Assignee("assignees")),
        read: TASK_READ,
        create: Rule::of(Access::Manager),
        update: Rule::of(Access::Manager).supervisors(TASK_SUPERVISORS),
        delete: Rule::of(Access::Manager),
        lists_closed: false,
    },
    duplicate_message: Some("Task already exists."),
    project: ProjectLink::Field("project_id"),
    named_references: &[],
    lifecycle: None,
    detach_on_force: None,
    unique_together: &[&["name", "project_id", "task_type_id", "entity_id"]],
    owns_on_force: &["comments"],
    agreements: &[Agreement {
        left: "task_type_id",
        left_field: "for_entity",
        right: "entity_id",
        right_field: "type",
        message: "Task type of the task does not match entity type.",
    }],
    periods: None,
    date_range: None,
    total: None,
    nulls_match: &[],
    extras: &[],
};

/// The author of each reply of a comment, as Zou embeds it in a comment it answers.
const REPLY_AUTHORS: Extra = Extra::EntriesPersonOf {
    list: "replies",
    key: "person",
    from: "person_id",
};

const COMMENTS: Model = Model {
    route: "comments",
    type_name: "Comment",
    collection: "kitsu_comments",
    fields: COMMENT,
    rules: Rules {
        list: Rule::of(Access::Admin),
        read: Rule::of(Access::Member)
            .vendors(Vendors::Assigned(EntityOf::Via {
                field: "object_id",
                route: "tasks",
                entity: "entity_id",
            }))
            .clients(Clients {
                flag: "for_client",
                own: Some("person_id"),
            }),
        create: Rule::of(Access::Admin),
        update: Rule::of(Access::Manager).or_author(AUTHOR_IN_TEAM),
        // Through the generic route: production managers of the team, or the author.
        delete: Rule::of(Access::Manager).or_author(Author {
            in_team: false,
            ..AUTHOR_IN_TEAM
        }),
        lists_closed: false,
    },
    duplicate_message: None,
    project: ProjectLink::Via {
        field: "object_id",
        route: "tasks",
    },
    named_references: &[],
    lifecycle: None,
    detach_on_force: None,
    unique_together: &[],
    owns_on_force: &[],
    agreements: &[],
    periods: None,
    date_range: None,
    total: None,
    nulls_match: &[],
    extras: &[
        Extra::PersonOf {
            key: "person",
            from: "person_id",
        },
        REPLY_AUTHORS,
    ],
};

/// The model served at `/data/<route>`.
pub fn model(route: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.route == route)
}
