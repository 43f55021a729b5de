//! The wall clock, read only here and only at the edges (a push confirmed, a build failed,
//! the legacy report's "as of now"): the core decides on data, never on the time.

/// Seconds since the Unix epoch; 0 for a clock set before it.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
