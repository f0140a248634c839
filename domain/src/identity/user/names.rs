//! The rule a person's first and last names follow, wherever they are set (sign-up, profile,
//! a studio manager's tracker record).
use super::errors::UserError;

const NAME_MAX: usize = 100;

pub(super) fn check_name(field: &'static str, value: &str) -> Result<(), UserError> {
    if value.chars().count() > NAME_MAX {
        return Err(UserError::Invalid {
            field,
            message: "must be at most 100 characters",
        });
    }
    if value.chars().any(char::is_control) {
        return Err(UserError::Invalid {
            field,
            message: "must not contain control characters",
        });
    }
    Ok(())
}
