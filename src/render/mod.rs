pub mod json;
pub mod table;
pub mod config_wire;
