//! Path templates that did not expand.

/// A path template that did not expand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// `{name}` in the path, and no option `name`.
    #[error("path template {} needs the option \"{}\"", crate::redact::control_chars(.template), crate::redact::control_chars(.name))]
    Missing {
        /// The variable.
        name: String,
        /// The path template.
        template: String,
    },
    /// The variable's value is not a string or number.
    #[error("option \"{0}\" must be a string or a number to fill {{{0}}}, got {found}", crate::redact::control_chars(.name))]
    WrongType {
        /// The variable.
        name: String,
        /// The JSON type found.
        found: &'static str,
    },
    /// The expanded path has a `.` or `..` segment (literal, from a variable, or percent-encoded),
    /// which a server or proxy would resolve to another endpoint than the one signed.
    #[error("path template {} expands to a path with a `.` or `..` segment", crate::redact::control_chars(.template))]
    DotSegment {
        /// The path template.
        template: String,
    },
    /// The template itself is malformed (unclosed brace, unsupported operator).
    #[error("malformed path template {}: {}", crate::redact::control_chars(.template), crate::redact::control_chars(.reason))]
    Syntax {
        /// The path template.
        template: String,
        /// What is wrong.
        reason: String,
    },
}
