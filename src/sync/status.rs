//! What happened to one package in a run, as `report.json` and the summary line name it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A package's status at the end of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageStatus {
    /// A commit was pushed and the server confirmed it.
    Pushed,
    /// The server already holds these files (or the same input was confirmed before).
    Unchanged,
    /// A dry run would push this.
    WouldPush,
    /// Publishing failed; the next run retries.
    Failed,
    /// Needs a package that failed, or one held for review, in this run.
    Waiting,
    /// Queued for a maintainer's review.
    Review,
    /// A dry run would queue this for review.
    WouldReview,
    /// A maintainer rejected exactly this change.
    Rejected,
}

impl PackageStatus {
    /// The name `report.json` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageStatus::Pushed => "pushed",
            PackageStatus::Unchanged => "unchanged",
            PackageStatus::WouldPush => "would-push",
            PackageStatus::Failed => "failed",
            PackageStatus::Waiting => "waiting",
            PackageStatus::Review => "review",
            PackageStatus::WouldReview => "would-review",
            PackageStatus::Rejected => "rejected",
        }
    }

    /// Whether the server holds exactly what this run meant it to, so that follow-up work
    /// (the keywords) may be done.
    pub fn is_on_server(self) -> bool {
        matches!(self, PackageStatus::Pushed | PackageStatus::Unchanged)
    }
}

impl fmt::Display for PackageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names_are_serde_names() {
        use PackageStatus::*;
        let every = [
            Pushed,
            Unchanged,
            WouldPush,
            Failed,
            Waiting,
            Review,
            WouldReview,
            Rejected,
        ];
        for status in every {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
    }
}
