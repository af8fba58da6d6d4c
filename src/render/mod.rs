pub mod json;
pub mod sanitize;
pub mod table;
