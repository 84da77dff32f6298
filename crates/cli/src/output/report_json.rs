//! `baton.report.v1` as JSON, keys in the contract's order.

use serde::Serialize;

use baton_correlate::ConfigFinding;
use baton_correlate::model::{Background, Incident, Joins, Mark, TimelineMinute, Totals, Window};

use super::json::{FileDoc, file_doc};
use crate::document::Report;

#[derive(Serialize)]
struct ReportDoc<'a> {
    schema: &'static str,
    tz: String,
    tz_source: &'static str,
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
pub fn report(r: &Report) -> impl Serialize + '_ {
    let a = &r.analysis;
    ReportDoc {
        schema: "baton.report.v1",
        tz: r.stats.zone.to_string(),
        tz_source: r.stats.zone_source,
        window: &a.window,
        files: r.stats.files.iter().map(file_doc).collect(),
        warnings: &a.warnings,
        config_findings: &a.config_findings,
        joins: &a.joins,
        totals: &a.totals,
        fleet_incidents: &a.fleet_incidents,
        incidents: &a.incidents,
        background: &a.background,
        timeline: &a.timeline,
        marks: &a.marks,
        nodes: &r.nodes,
    }
}
