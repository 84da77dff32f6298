//! JSON lines whose keys are nginx variable names without `$`.
//!
//! ```text
//! {"time_iso8601":"2026-11-24T11:16:54+00:00","remote_addr":"127.0.0.1","request":"GET /ok.php HTTP/1.1","status":200,"request_time":0.001,"upstream_status":"200"}
//! ```
//!
//! Values are borrowed raw, escapes undecoded: nginx `escape=json` writes
//! `\"`, `\\` and `\uXXXX`, `escape=default` writes `\xHH`, and both stay
//! as written. Numbers may be bare or quoted; `null`, `""` and `"-"` are
//! absent. Keys that are not known variables are kept as extras; nested
//! objects and arrays are kept whole as raw extras. An object with neither
//! `status` nor `request` is not an access record.

use crate::error::SkipReason;
use crate::time::TimeLocalCache;

use super::AccessRecord;
use super::field::{Builder, Var};

/// Parses one JSON line.
pub(crate) fn parse<'a>(
    line: &'a [u8],
    cache: &mut TimeLocalCache,
) -> Result<AccessRecord<'a>, SkipReason> {
    let mut members = crate::json::Members::new(line)?;
    let mut rec = AccessRecord::default();
    let mut b = Builder::new(&mut rec);
    let mut known = false;
    while let Some((key, value)) = members.next_member()? {
        let value = match value {
            crate::json::Value::Bare(b"null") => &b""[..],
            crate::json::Value::Str(v)
            | crate::json::Value::Bare(v)
            | crate::json::Value::Object(v)
            | crate::json::Value::Array(v) => v,
        };
        match Var::from_name(key) {
            Some(var) => {
                known |= matches!(var, Var::Status | Var::Request);
                b.set(var, value, cache)?;
            }
            None => b.rec.extras.push(key, value),
        }
    }
    if !known {
        return Err(SkipReason::Unrecognized);
    }
    b.finish();
    Ok(rec)
}
