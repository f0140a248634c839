//! The model registry: Zou's models as data (reference section 3). A new model is an entry
//! here plus tests.
use super::registry::{Default as D, Field, FieldType as T, Model, Rules, Unique};

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
];

/// Every model served by the generic routes.
pub static MODELS: &[Model] = &[
    Model {
        route: "project-status",
        type_name: "ProjectStatus",
        collection: "kitsu_project_status",
        fields: PROJECT_STATUS,
        rules: Rules::REFERENCE,
        duplicate_message: None,
    },
    Model {
        route: "task-types",
        type_name: "TaskType",
        collection: "kitsu_task_types",
        fields: TASK_TYPE,
        rules: Rules::REFERENCE,
        duplicate_message: Some("A task type with similar name already exists"),
    },
    Model {
        route: "task-status",
        type_name: "TaskStatus",
        collection: "kitsu_task_status",
        fields: TASK_STATUS,
        rules: Rules::REFERENCE,
        duplicate_message: None,
    },
    Model {
        route: "departments",
        type_name: "Department",
        collection: "kitsu_departments",
        fields: NAME_COLOR_ARCHIVED,
        rules: Rules::REFERENCE,
        duplicate_message: None,
    },
    Model {
        route: "studios",
        type_name: "Studio",
        collection: "kitsu_studios",
        fields: NAME_COLOR_ARCHIVED,
        rules: Rules::REFERENCE,
        duplicate_message: None,
    },
    Model {
        route: "file-status",
        type_name: "FileStatus",
        collection: "kitsu_file_status",
        fields: FILE_STATUS,
        rules: Rules::REFERENCE,
        duplicate_message: None,
    },
    Model {
        route: "entity-types",
        type_name: "EntityType",
        collection: "kitsu_entity_types",
        fields: ENTITY_TYPE,
        rules: Rules::REFERENCE,
        duplicate_message: None,
    },
];

/// The model served at `/data/<route>`.
pub fn model(route: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.route == route)
}
