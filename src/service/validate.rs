//! Validated newtypes: input becomes one of these at the edge, or a `validation_failed`
//! error naming the field. Past the edge, a `Username` is known to be well-formed.

use crate::error::Error;

/// 3–32 characters of `[a-z0-9_.]`. Upper case input is lowered (usernames are
/// case-insensitive); anything else is refused, not silently changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let s = raw.trim().to_ascii_lowercase();
        let len = s.chars().count();
        if !(3..=32).contains(&len) {
            return Err(Error::validation("username: must be 3 to 32 characters"));
        }
        if !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.') {
            return Err(Error::validation("username: only letters a-z, digits, '_' and '.' are allowed"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 1–64 characters after trimming; no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let s = raw.trim();
        let len = s.chars().count();
        if !(1..=64).contains(&len) {
            return Err(Error::validation("display_name: must be 1 to 64 characters"));
        }
        if s.chars().any(char::is_control) {
            return Err(Error::validation("display_name: must not contain control characters"));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 8–1024 characters (the upper bound keeps hashing cost bounded).
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let len = raw.chars().count();
        if len < 8 {
            return Err(Error::validation("password: must be at least 8 characters"));
        }
        if raw.len() > 1024 {
            return Err(Error::validation("password: must be at most 1024 bytes"));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(Username::parse(" Alice_1.x ").unwrap().as_str(), "alice_1.x");
        for bad in ["ab", "a b c", "robert'); drop table users;--", "<script>", "ünïcode", &"a".repeat(33)] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_names() {
        assert_eq!(DisplayName::parse("  Alice  ").unwrap().as_str(), "Alice");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse("a\u{0}b").is_err());
        assert!(DisplayName::parse(&"x".repeat(65)).is_err());
        assert_eq!(DisplayName::parse("<b>Bob</b>").unwrap().as_str(), "<b>Bob</b>");
    }

    #[test]
    fn passwords() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(1025)).is_err());
        assert!(Password::parse("correct horse").is_ok());
    }
}
