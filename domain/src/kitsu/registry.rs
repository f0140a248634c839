//! What a model definition holds: its fields (type, default, required, protected, unique) and
//! who may do what with its records. Definitions are static data (see `models`).
use serde_json::{Value, json};

/// The type of a field's value, as Zou's column types accept it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldType {
    /// A string of at most `max` characters (`None`: unbounded text).
    Text {
        max: Option<usize>,
    },
    Bool,
    Int,
    Float,
    /// Any JSON value (Zou's JSONB columns).
    Json,
    /// One of these codes.
    Choice(&'static [&'static str]),
    /// The id (a UUID) of a record of the model with this route.
    Reference(&'static str),
}

/// A field's value when a create does not give one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Default {
    Null,
    Text(&'static str),
    Bool(bool),
    Int(i64),
}

impl Default {
    pub fn value(self) -> Value {
        match self {
            Default::Null => Value::Null,
            Default::Text(s) => json!(s),
            Default::Bool(b) => json!(b),
            Default::Int(i) => json!(i),
        }
    }
}

/// How a unique field compares values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unique {
    Exact,
    /// Zou refuses a name that differs only in case (task types, entity types).
    CaseInsensitive,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    /// Refused as missing when absent or null on create.
    pub required: bool,
    pub default: Default,
    /// Silently dropped from updates (Zou's per-model protected fields).
    pub protected: bool,
    pub unique: Option<Unique>,
}

impl Field {
    /// An optional field without default, nothing special.
    pub const fn new(name: &'static str, ty: FieldType) -> Self {
        Field {
            name,
            ty,
            required: false,
            default: Default::Null,
            protected: false,
            unique: None,
        }
    }

    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub const fn default(mut self, default: Default) -> Self {
        self.default = default;
        self
    }

    pub const fn protected(mut self) -> Self {
        self.protected = true;
        self
    }

    pub const fn unique(mut self, unique: Unique) -> Self {
        self.unique = Some(unique);
        self
    }

    /// The key a unique value is claimed under: the value itself, lower-cased when the field
    /// compares without case. `None` for non-unique fields and null values (Zou's unique
    /// columns admit many nulls).
    pub fn unique_key(&self, value: &Value) -> Option<String> {
        let unique = self.unique?;
        let text = match value {
            Value::Null => return None,
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Some(match unique {
            Unique::Exact => text,
            Unique::CaseInsensitive => text.to_lowercase(),
        })
    }
}

/// Who may perform one kind of action on a model's records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Access {
    /// Any authenticated person.
    Anyone,
    /// Studio managers (`admin`) only: Zou's default for every hook.
    Admin,
}

impl Access {
    /// Whether a person of global `role` may.
    pub fn allows(self, role: &str) -> bool {
        match self {
            Access::Anyone => true,
            Access::Admin => role == "admin",
        }
    }
}

/// Zou's permission hooks of a model (section 2.6).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    pub list: Access,
    pub read: Access,
    pub create: Access,
    pub update: Access,
    pub delete: Access,
}

impl Rules {
    /// Reference data: everyone reads, administrators write.
    pub const REFERENCE: Rules = Rules {
        list: Access::Anyone,
        read: Access::Anyone,
        create: Access::Admin,
        update: Access::Admin,
        delete: Access::Admin,
    };
}

#[derive(Debug, PartialEq)]
pub struct Model {
    /// The name in `/data/<route>`.
    pub route: &'static str,
    /// Zou's class name, serialized as `type`.
    pub type_name: &'static str,
    /// The read-model collection of its records.
    pub collection: &'static str,
    pub fields: &'static [Field],
    pub rules: Rules,
    /// Zou's message for a duplicate unique value, when it has its own.
    pub duplicate_message: Option<&'static str>,
}

impl Model {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The unique fields.
    pub fn unique_fields(&self) -> impl Iterator<Item = &'static Field> + '_ {
        self.fields.iter().filter(|f| f.unique.is_some())
    }
}
