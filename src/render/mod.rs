pub mod config_wire;
pub mod json;
pub mod sanitize;
pub mod table;
