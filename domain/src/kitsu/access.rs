//! Who may do what with a model's records (Zou's permission hooks, reference 2.6 and the
//! "perms" of section 3, as Zou 1.0.97 applies them): one [`Rule`] per kind of action, decided
//! from a few facts the service gathers about the caller and the record. Studio managers
//! (`admin`) may always.
use serde_json::Value;

/// The base of a rule: who may, apart from studio managers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Access {
    /// Any authenticated person.
    Anyone,
    /// Studio managers (`admin`) only: Zou's default for every hook.
    Admin,
    /// Zou's "project access": members of the team of the record's project. On lists:
    /// non-admins see the records of the projects they belong to.
    Member,
    /// Zou's "supervisor project access": production managers and supervisors in the team
    /// of the record's project.
    Supervisor,
    /// Zou's "manager project access": production managers (`manager`) in the team of the
    /// record's project.
    Manager,
}

impl Access {
    /// Whether a person of global `role`, whom the record's project team holds or not
    /// (`in_team`), may.
    pub fn allows(self, role: &str, in_team: bool) -> bool {
        match self {
            Access::Anyone => true,
            Access::Admin => role == "admin",
            Access::Member => role == "admin" || in_team,
            Access::Supervisor => {
                role == "admin" || (in_team && matches!(role, "manager" | "supervisor"))
            }
            Access::Manager => role == "admin" || (in_team && role == "manager"),
        }
    }

    /// Whether the answer depends on the record's project team.
    pub fn needs_team(self) -> bool {
        matches!(self, Access::Member | Access::Supervisor | Access::Manager)
    }
}

/// The record's author may too (Zou's creator and owner rules).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Author {
    /// The field naming the author (`created_by`, `person_id`).
    pub field: &'static str,
    /// Only while the project's team holds them.
    pub in_team: bool,
    /// Only with one of these roles (any role when empty).
    pub roles: &'static [&'static str],
    /// A record without author counts as the caller's (Zou's playlists made before
    /// `created_by` existed).
    pub unset_counts: bool,
}

/// What vendors need besides the rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Vendors {
    /// Nothing more than anyone else.
    AsOthers,
    /// Never allowed (Zou's `block_access_to_vendor`).
    Never,
    /// A task of the record's entity must be assigned to them (Zou's `check_entity_access`).
    Assigned(EntityOf),
    /// The record's relation of this name must list them (Zou's task lists for vendors: the
    /// tasks assigned to them).
    Assignee(&'static str),
}

/// Where a record's entity (asset, shot, ...) is, for the vendors' assignment rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EntityOf {
    /// The record is the entity.
    Itself,
    /// The entity whose id is in this field (a task's `entity_id`).
    Field(&'static str),
    /// The entity of the record of model `route` whose id is in `field` (a comment's task).
    Via {
        field: &'static str,
        route: &'static str,
        entity: &'static str,
    },
}

/// Zou's supervisor department access: supervisors in the team of the record's project may
/// act on the records of their departments (a supervisor without departments has every
/// department), changing only `fields`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Departments {
    /// Where the record's department is.
    pub department: DepartmentOf,
    /// The only keys a change may hold (any when empty): Zou compares the request's keys,
    /// so a key that is no field counts too.
    pub fields: &'static [&'static str],
}

/// Where a record's department is, for [`Departments`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DepartmentOf {
    /// The department of the task type whose id is in this field (a task's).
    TaskType(&'static str),
    /// None: only supervisors without departments supervise it. Zou gives an entity's `data`
    /// keys departments through metadata descriptors, which this rule does not consult yet;
    /// without them Zou too lets only those supervisors through.
    Nobody,
}

impl Departments {
    /// Whether a supervisor's change holding `keys` stays within the allowed fields.
    pub fn covers(&self, keys: &[String]) -> bool {
        self.fields.is_empty() || keys.iter().all(|k| self.fields.contains(&k.as_str()))
    }
}

/// Whether a person whose departments are `theirs` supervises a record of `department` (a
/// task type without department is no department's; a supervisor without departments
/// supervises all of them).
pub fn supervises(theirs: &[&str], department: Option<&str>) -> bool {
    theirs.is_empty() || department.is_some_and(|d| theirs.contains(&d))
}

/// Who may perform one kind of action on a model's records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub access: Access,
    pub author: Option<Author>,
    pub vendors: Vendors,
    /// What clients need besides the rule.
    pub clients: Option<Clients>,
    /// Supervisors of the record's departments may too.
    pub supervisors: Option<Departments>,
}

/// Clients reach only the records shared with them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clients {
    /// The boolean field that shares a record with clients (Zou's `for_client`).
    pub flag: &'static str,
    /// The author field that makes a record the client's own, which they reach too (Zou lets
    /// a client read the comments of clients).
    pub own: Option<&'static str>,
}

/// What a rule is decided on, gathered by the service.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub user_id: &'a str,
    /// The caller's global role.
    pub role: &'a str,
    /// Whether the team of the record's project holds the caller.
    pub in_team: bool,
    /// Whether a task of the record's entity is assigned to the caller (asked of vendors
    /// only).
    pub assigned: bool,
    /// Whether the caller supervises the record's department (asked of supervisors only,
    /// see [`supervises`]).
    pub in_department: bool,
    /// The keys of the change asked (empty but for updates).
    pub changing: &'a [String],
}

/// How a rule answers a list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Listing {
    /// Every record.
    All,
    /// A 403.
    Refused,
    /// The records the caller reaches: see [`Rule::allows`]; the service turns the rule into
    /// a filter.
    Narrowed,
}

impl Rule {
    pub const fn of(access: Access) -> Rule {
        Rule {
            access,
            author: None,
            vendors: Vendors::AsOthers,
            clients: None,
            supervisors: None,
        }
    }

    /// See [`Departments`].
    pub const fn supervisors(mut self, departments: Departments) -> Rule {
        self.supervisors = Some(departments);
        self
    }

    /// See [`Author`].
    pub const fn or_author(mut self, author: Author) -> Rule {
        self.author = Some(author);
        self
    }

    /// See [`Vendors`].
    pub const fn vendors(mut self, vendors: Vendors) -> Rule {
        self.vendors = vendors;
        self
    }

    /// See [`Clients`].
    pub const fn clients(mut self, clients: Clients) -> Rule {
        self.clients = Some(clients);
        self
    }

    /// Whether the caller the facts describe may, on the record whose fields `field` reads.
    pub fn allows<'v>(&self, facts: &Facts, field: impl Fn(&str) -> Option<&'v Value>) -> bool {
        if facts.role == "admin" {
            return true;
        }
        match self.vendors {
            Vendors::Never if facts.role == "vendor" => return false,
            Vendors::Assigned(_) if facts.role == "vendor" && !facts.assigned => return false,
            Vendors::Assignee(relation) if facts.role == "vendor" => {
                let listed = field(relation)
                    .and_then(Value::as_array)
                    .is_some_and(|ids| ids.iter().any(|id| id.as_str() == Some(facts.user_id)));
                if !listed {
                    return false;
                }
            }
            _ => {}
        }
        if let Some(clients) = self.clients
            && facts.role == "client"
        {
            let shared = field(clients.flag) == Some(&Value::Bool(true));
            let own = clients
                .own
                .is_some_and(|own| field(own).and_then(Value::as_str) == Some(facts.user_id));
            if !shared && !own {
                return false;
            }
        }
        self.access.allows(facts.role, facts.in_team)
            || self.author_allows(facts, field)
            || self.supervisor_allows(facts)
    }

    fn supervisor_allows(&self, facts: &Facts) -> bool {
        self.supervisors.is_some_and(|departments| {
            facts.role == "supervisor"
                && facts.in_team
                && facts.in_department
                && departments.covers(facts.changing)
        })
    }

    fn author_allows<'v>(&self, facts: &Facts, field: impl Fn(&str) -> Option<&'v Value>) -> bool {
        let Some(author) = self.author else {
            return false;
        };
        let is_author = match field(author.field) {
            None | Some(Value::Null) => author.unset_counts,
            Some(id) => id.as_str() == Some(facts.user_id),
        };
        is_author
            && (!author.in_team || facts.in_team)
            && (author.roles.is_empty() || author.roles.contains(&facts.role))
    }

    /// Whether deciding needs the record's project team.
    pub fn needs_team(&self) -> bool {
        self.access.needs_team()
            || self.author.is_some_and(|a| a.in_team)
            || self.supervisors.is_some()
    }

    /// Whether deciding for a person of `role` needs to know whether they supervise the
    /// record's department: where that department is.
    pub fn needs_department(&self, role: &str) -> Option<DepartmentOf> {
        self.supervisors
            .filter(|_| role == "supervisor")
            .map(|d| d.department)
    }

    /// Whether deciding for a person of `role` needs to know their assignments.
    pub fn needs_assignment(&self, role: &str) -> Option<EntityOf> {
        match self.vendors {
            Vendors::Assigned(entity) if role == "vendor" => Some(entity),
            _ => None,
        }
    }

    /// Whether a person of `role` may whatever the record: the rule needs nothing of it.
    pub fn allows_anywhere(&self, role: &str) -> bool {
        role == "admin"
            || (self.access == Access::Anyone
                && (self.clients.is_none() || role != "client")
                && (self.vendors == Vendors::AsOthers || role != "vendor"))
    }

    /// Whether a person of `role` may, on some record (the caller refuses the rest before
    /// reading the request).
    pub fn may_ever(&self, role: &str) -> bool {
        if role == "admin" {
            return true;
        }
        if role == "vendor" && self.vendors == Vendors::Never {
            return false;
        }
        let author = self
            .author
            .is_some_and(|a| a.roles.is_empty() || a.roles.contains(&role));
        let supervisor = self.supervisors.is_some() && role == "supervisor";
        author
            || supervisor
            || match self.access {
                Access::Anyone | Access::Member => true,
                Access::Admin => false,
                Access::Supervisor => matches!(role, "manager" | "supervisor"),
                Access::Manager => role == "manager",
            }
    }

    /// How a list answers a person of `role`.
    pub fn listing(&self, role: &str) -> Listing {
        if self.allows_anywhere(role) {
            Listing::All
        } else if self.may_ever(role) {
            Listing::Narrowed
        } else {
            Listing::Refused
        }
    }
}

impl From<Access> for Rule {
    fn from(access: Access) -> Rule {
        Rule::of(access)
    }
}

/// Zou's permission hooks of a model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    pub list: Rule,
    pub read: Rule,
    pub create: Rule,
    pub update: Rule,
    pub delete: Rule,
    /// Lists show team members the records of their closed projects too (Zou's playlists);
    /// otherwise of their open projects only (Zou's "related projects").
    pub lists_closed: bool,
}

impl Rules {
    /// Reference data: everyone reads, administrators write.
    pub const REFERENCE: Rules = Rules {
        list: Rule::of(Access::Anyone),
        read: Rule::of(Access::Anyone),
        create: Rule::of(Access::Admin),
        update: Rule::of(Access::Admin),
        delete: Rule::of(Access::Admin),
        lists_closed: false,
    };
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ME: &str = "me";

    fn facts(role: &'static str, in_team: bool) -> Facts<'static> {
        Facts {
            user_id: ME,
            role,
            in_team,
            assigned: false,
            in_department: false,
            changing: &[],
        }
    }

    fn on<'v>(record: &'v Value) -> impl Fn(&str) -> Option<&'v Value> + 'v {
        move |k| record.get(k)
    }

    /// Zou 1.0.97's playlist update: production managers of the team, or the supervisor of
    /// the team who made it (or a playlist made by nobody).
    const PLAYLIST_UPDATE: Rule = Rule::of(Access::Manager).or_author(Author {
        field: "created_by",
        in_team: true,
        roles: &["supervisor"],
        unset_counts: true,
    });

    #[test]
    fn given_a_team_rule_when_a_member_asks_then_their_role_decides() {
        let record = json!({});
        for (role, manager, supervisor, member) in [
            ("manager", true, true, true),
            ("supervisor", false, true, true),
            ("user", false, false, true),
            ("client", false, false, true),
        ] {
            let inside = facts(role, true);
            assert_eq!(
                Rule::of(Access::Manager).allows(&inside, on(&record)),
                manager
            );
            assert_eq!(
                Rule::of(Access::Supervisor).allows(&inside, on(&record)),
                supervisor
            );
            assert_eq!(
                Rule::of(Access::Member).allows(&inside, on(&record)),
                member
            );
            assert!(!Rule::of(Access::Member).allows(&facts(role, false), on(&record)));
        }
        assert!(Rule::of(Access::Admin).allows(&facts("admin", false), on(&record)));
    }

    #[test]
    fn given_an_author_rule_when_the_author_asks_then_it_allows_within_its_bounds() {
        let mine = json!({"created_by": ME});
        let theirs = json!({"created_by": "someone"});
        let nobodys = json!({"created_by": null});
        let supervisor = facts("supervisor", true);
        assert!(PLAYLIST_UPDATE.allows(&supervisor, on(&mine)));
        assert!(PLAYLIST_UPDATE.allows(&supervisor, on(&nobodys)));
        assert!(!PLAYLIST_UPDATE.allows(&supervisor, on(&theirs)));
        assert!(!PLAYLIST_UPDATE.allows(&facts("supervisor", false), on(&mine)));
        assert!(!PLAYLIST_UPDATE.allows(&facts("user", true), on(&mine)));
        assert!(PLAYLIST_UPDATE.allows(&facts("manager", true), on(&theirs)));

        let creator_anywhere = Rule::of(Access::Manager).or_author(Author {
            field: "created_by",
            in_team: false,
            roles: &[],
            unset_counts: false,
        });
        assert!(creator_anywhere.allows(&facts("user", false), on(&mine)));
        assert!(!creator_anywhere.allows(&facts("user", false), on(&nobodys)));
    }

    #[test]
    fn given_vendor_and_client_limits_when_they_ask_then_the_limits_hold() {
        let internal = json!({"for_client": false});
        let shared = json!({"for_client": true});
        let playlists = Rule::of(Access::Member)
            .vendors(Vendors::Never)
            .clients(Clients {
                flag: "for_client",
                own: Some("created_by"),
            });
        let own = json!({"for_client": false, "created_by": ME});
        assert!(playlists.allows(&facts("client", true), on(&own)));
        assert!(!playlists.allows(&facts("vendor", true), on(&shared)));
        assert!(!playlists.allows(&facts("client", true), on(&internal)));
        assert!(playlists.allows(&facts("client", true), on(&shared)));
        assert!(playlists.allows(&facts("user", true), on(&internal)));

        let entities = Rule::of(Access::Member).vendors(Vendors::Assigned(EntityOf::Itself));
        let vendor = facts("vendor", true);
        assert!(!entities.allows(&vendor, on(&internal)));
        let assigned = Facts {
            assigned: true,
            ..vendor
        };
        assert!(entities.allows(&assigned, on(&internal)));
        assert_eq!(entities.needs_assignment("vendor"), Some(EntityOf::Itself));
        assert_eq!(entities.needs_assignment("user"), None);

        let tasks = Rule::of(Access::Member).vendors(Vendors::Assignee("assignees"));
        assert!(tasks.allows(&vendor, on(&json!({"assignees": [ME]}))));
        assert!(!tasks.allows(&vendor, on(&json!({"assignees": ["someone"]}))));
        assert!(tasks.allows(&facts("user", true), on(&json!({"assignees": []}))));
    }

    /// Zou 1.0.97's task update: production managers of the team, and supervisors of the
    /// team on the tasks of their departments, changing planning fields only.
    const TASK_UPDATE: Rule = Rule::of(Access::Manager).supervisors(Departments {
        department: DepartmentOf::TaskType("task_type_id"),
        fields: &["priority", "due_date", "data"],
    });

    #[test]
    fn given_a_department_rule_when_a_supervisor_changes_then_department_and_fields_decide() {
        let task = json!({"task_type_id": "modeling"});
        let priority = ["priority".to_string()];
        let renaming = ["priority".to_string(), "name".to_string()];
        let theirs = Facts {
            in_department: true,
            changing: &priority,
            ..facts("supervisor", true)
        };
        assert!(TASK_UPDATE.allows(&theirs, on(&task)));
        assert!(!TASK_UPDATE.allows(
            &Facts {
                changing: &renaming,
                ..theirs
            },
            on(&task)
        ));
        assert!(!TASK_UPDATE.allows(
            &Facts {
                in_department: false,
                ..theirs
            },
            on(&task)
        ));
        assert!(!TASK_UPDATE.allows(
            &Facts {
                in_team: false,
                ..theirs
            },
            on(&task)
        ));
        // The department is no artist's way in; managers change anything.
        assert!(!TASK_UPDATE.allows(
            &Facts {
                role: "user",
                ..theirs
            },
            on(&task)
        ));
        assert!(TASK_UPDATE.allows(
            &Facts {
                changing: &renaming,
                ..facts("manager", true)
            },
            on(&task)
        ));
        assert_eq!(
            TASK_UPDATE.needs_department("supervisor"),
            Some(DepartmentOf::TaskType("task_type_id"))
        );
        assert_eq!(TASK_UPDATE.needs_department("manager"), None);
        assert!(TASK_UPDATE.may_ever("supervisor"));
        assert!(!TASK_UPDATE.may_ever("user"));
    }

    #[test]
    fn given_departments_then_a_supervisor_without_any_supervises_all() {
        assert!(supervises(&["d1"], Some("d1")));
        assert!(!supervises(&["d1"], Some("d2")));
        assert!(!supervises(&["d1"], None));
        assert!(supervises(&[], Some("d2")));
        assert!(supervises(&[], None));
    }

    #[test]
    fn given_a_rule_when_a_list_is_asked_then_it_is_whole_narrowed_or_refused() {
        let reference = Rule::of(Access::Anyone);
        assert_eq!(reference.listing("vendor"), Listing::All);
        let shared = reference.clients(Clients {
            flag: "for_client",
            own: None,
        });
        assert_eq!(shared.listing("user"), Listing::All);
        assert_eq!(shared.listing("client"), Listing::Narrowed);
        let admin = Rule::of(Access::Admin);
        assert_eq!(admin.listing("manager"), Listing::Refused);
        assert_eq!(admin.listing("admin"), Listing::All);
        let playlists = Rule::of(Access::Member).vendors(Vendors::Never);
        assert_eq!(playlists.listing("user"), Listing::Narrowed);
        assert_eq!(playlists.listing("vendor"), Listing::Refused);
        assert!(!Rule::of(Access::Manager).may_ever("supervisor"));
        assert!(PLAYLIST_UPDATE.may_ever("supervisor"));
        assert!(!PLAYLIST_UPDATE.may_ever("user"));
    }
}
