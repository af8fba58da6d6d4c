//! Pipelines: from targets to reports, with the I/O at the edges.

pub mod scan;
