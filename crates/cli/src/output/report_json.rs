//! `baton.report.v1` as JSON, keys in the contract's order.

use serde::Serialize;

use baton_correlate::model::{Background, Incident, Joins, Mark, TimelineMinute, Totals, Window};
use baton_correlate::{Analysis, ConfigFinding};

use super::json::{FileDoc, file_doc};
use crate::document::Report;

/// The `baton.report.v1` document, keys in the contract's order.
#[derive(Serialize)]
pub struct ReportDoc<'a> {
    schema: &'static str,
    tz: String,
    tz_source: &'a str,
    window: &'a Window,
    files: Vec<FileDoc<'a>>,
    warnings: &'a [String],
    config_findings: &'a [ConfigFinding],
    joins: &'a Joins,
    totals: &'a Totals,
    fleet_incidents: &'a [baton_correlate::FleetIncident],
    incidents: &'a [Incident],
    background: &'a Background,
    timeline: &'a [TimelineMinute],
    marks: &'a [Mark],
    nodes: &'a [crate::document::NodeDoc],
}

/// Renders `baton.report.v1`.
pub fn report(r: &Report) -> ReportDoc<'_> {
    document(
        r.stats.zone.to_string(),
        r.stats.zone_source,
        &r.analysis,
        r.stats.files.iter().map(file_doc).collect(),
        &r.nodes,
    )
}

/// `baton.report.v1` of an analysis and the files and nodes it read.
pub fn document<'a>(
    tz: String,
    tz_source: &'a str,
    a: &'a Analysis,
    files: Vec<FileDoc<'a>>,
    nodes: &'a [crate::document::NodeDoc],
) -> ReportDoc<'a> {
    ReportDoc {
        schema: "baton.report.v1",
        tz,
        tz_source,
        window: &a.window,
        files,
        warnings: &a.warnings,
        config_findings: &a.config_findings,
        joins: &a.joins,
        totals: &a.totals,
        fleet_incidents: &a.fleet_incidents,
        incidents: &a.incidents,
        background: &a.background,
        timeline: &a.timeline,
        marks: &a.marks,
        nodes,
    }
}
