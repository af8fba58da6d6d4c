pub mod config_wire;
pub mod github;
pub mod json;
pub mod markdown;
pub mod sanitize;
pub mod sarif;
pub mod subjects;
pub mod table;
