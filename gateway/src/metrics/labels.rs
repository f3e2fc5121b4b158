//! The label sets of the series, each with a bounded set of values.

use prometheus_client::encoding::EncodeLabelSet;

use super::DEFAULT_AGENT;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct HttpLabels {
    pub(super) route: String,
    pub(super) method: String,
    pub(super) status: u16,
}

/// Which system, agent and upstream kind a turn went to, as labels.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TurnLabels {
    pub(super) system: String,
    pub(super) agent: String,
    pub(super) upstream: &'static str,
}

impl TurnLabels {
    /// `system` must already be bounded: a configured system's id, or
    /// [`super::OTHER_SYSTEM`]; `agent` a configured agent's name or `None`.
    pub fn new(system: &str, agent: Option<&str>, upstream: &'static str) -> Self {
        Self {
            system: system.to_owned(),
            agent: agent.unwrap_or(DEFAULT_AGENT).to_owned(),
            upstream,
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct TurnOutcomeLabels {
    pub(super) system: String,
    pub(super) agent: String,
    pub(super) upstream: &'static str,
    pub(super) outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct UpstreamKindLabels {
    pub(super) upstream: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct DoorLabels {
    pub(super) door: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct OperationLabels {
    pub(super) operation: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct KindLabels {
    pub(super) kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct SyncLabels {
    pub(super) system: String,
    pub(super) outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct SystemLabels {
    pub(super) system: String,
}
