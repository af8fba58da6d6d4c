//! Published tarball content analysis (issue E), in memory.
