//! Who may act on a task (Zou 1.0.97's `check_task_action_access`, which a comment on a task
//! asks first, and its `check_task_mention_access` fallback), decided from facts the service
//! gathers about the caller and the task.
//!
//! Studio managers always may. In the team of the task's project: production managers and
//! clients on any task; artists, vendors and supervisors on the tasks assigned to them;
//! supervisors also on the tasks of their departments (all of them without departments); the
//! creator of the task's entity on its tasks. Someone of the team (not a vendor) mentioned in
//! the task's conversation may answer in it, but not move its status.

/// What the decision needs of the caller and the task.
#[derive(Debug, Clone, Copy, Default)]
pub struct TaskActor<'a> {
    /// The caller's global role.
    pub role: &'a str,
    /// The team of the task's project holds the caller.
    pub in_team: bool,
    /// The task's assignees list the caller.
    pub assignee: bool,
    /// The caller supervises the task type's department (asked of supervisors only, see
    /// [`super::supervises`]).
    pub in_department: bool,
    /// The caller made the task's entity.
    pub entity_creator: bool,
    /// A comment (or a reply) of the task mentions the caller or one of their departments.
    pub mentioned: bool,
}

/// How far a caller may act on a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskAction {
    /// Every task action (comment with any status the role may use).
    Full,
    /// Only answer in the conversation: a comment keeping the task's status.
    Answer,
    /// Nothing.
    None,
}

/// How far `actor` may act on the task.
pub fn task_action(actor: &TaskActor) -> TaskAction {
    if actor.role == "admin" {
        return TaskAction::Full;
    }
    if !actor.in_team {
        return TaskAction::None;
    }
    let full = matches!(actor.role, "manager" | "client")
        || actor.assignee
        || (actor.role == "supervisor" && actor.in_department)
        || actor.entity_creator;
    if full {
        TaskAction::Full
    } else if actor.mentioned && actor.role != "vendor" {
        TaskAction::Answer
    } else {
        TaskAction::None
    }
}

impl TaskAction {
    /// Whether a comment that moves the task to another status (`moves`) or keeps it is
    /// allowed.
    pub fn may_comment(self, moves: bool) -> bool {
        match self {
            TaskAction::Full => true,
            TaskAction::Answer => !moves,
            TaskAction::None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_team(role: &str) -> TaskActor<'_> {
        TaskActor {
            role,
            in_team: true,
            ..TaskActor::default()
        }
    }

    #[test]
    fn given_an_artist_of_the_team_when_unassigned_then_no_comment_and_assigned_then_one() {
        assert_eq!(task_action(&in_team("user")), TaskAction::None);
        let assigned = TaskActor {
            assignee: true,
            ..in_team("user")
        };
        assert_eq!(task_action(&assigned), TaskAction::Full);
        // Assigned but out of the team: nothing.
        let outside = TaskActor {
            in_team: false,
            ..assigned
        };
        assert_eq!(task_action(&outside), TaskAction::None);
    }

    #[test]
    fn given_a_supervisor_then_their_departments_decide() {
        let theirs = TaskActor {
            in_department: true,
            ..in_team("supervisor")
        };
        assert_eq!(task_action(&theirs), TaskAction::Full);
        assert_eq!(task_action(&in_team("supervisor")), TaskAction::None);
        // A department is no artist's way in.
        let artist = TaskActor {
            role: "user",
            ..theirs
        };
        assert_eq!(task_action(&artist), TaskAction::None);
    }

    #[test]
    fn given_managers_clients_and_entity_creators_of_the_team_then_they_may() {
        for role in ["manager", "client"] {
            assert_eq!(task_action(&in_team(role)), TaskAction::Full);
            let outside = TaskActor {
                in_team: false,
                ..in_team(role)
            };
            assert_eq!(task_action(&outside), TaskAction::None);
        }
        let creator = TaskActor {
            entity_creator: true,
            ..in_team("vendor")
        };
        assert_eq!(task_action(&creator), TaskAction::Full);
        assert_eq!(
            task_action(&TaskActor {
                role: "admin",
                ..TaskActor::default()
            }),
            TaskAction::Full
        );
    }

    #[test]
    fn given_a_mention_then_the_conversation_is_answered_without_moving_the_status() {
        let mentioned = TaskActor {
            mentioned: true,
            ..in_team("user")
        };
        let action = task_action(&mentioned);
        assert_eq!(action, TaskAction::Answer);
        assert!(action.may_comment(false));
        assert!(!action.may_comment(true));
        let vendor = TaskActor {
            role: "vendor",
            ..mentioned
        };
        assert_eq!(task_action(&vendor), TaskAction::None);
        assert!(!TaskAction::None.may_comment(false));
        assert!(TaskAction::Full.may_comment(true));
    }
}
