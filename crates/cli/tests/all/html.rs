//! `baton report --format html` through the binary: the page's structure
//! against the JSON report of the same inputs, and escaping of what the logs
//! say.
//!
//! The structure checks run on the bundled samples, on a hand-made log set
//! with several incident kinds written here, and (when `BATON_HTML_SCENARIO`
//! names a directory, as `.ci/run` does with a `baton-gen` set holding every
//! incident kind) on that set too.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn baton(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .expect("baton runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "baton {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A fresh temporary directory for one test.
fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("baton-html-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The HTML and the JSON report of the same inputs.
fn reports(path: &str) -> (String, Value) {
    let html = baton(&["report", "--format", "html", path]);
    let html = String::from_utf8(html.stdout).expect("the page is UTF-8");
    let json = baton(&["report", "--format", "json", path]);
    (html, serde_json::from_slice(&json.stdout).unwrap())
}

fn count(s: &str, needle: &str) -> usize {
    s.matches(needle).count()
}

/// The counts marked `data-k="KEY"` in `html`, in order, as numbers.
fn marked(html: &str, key: &str) -> Vec<u64> {
    let needle = format!("data-k=\"{key}\">");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            let text = &rest[..rest.find('<').unwrap()];
            text.replace(',', "").parse().unwrap()
        })
        .collect()
}

/// A count marked `data-k="KEY"` once in `html`, or 0 when it is not shown
/// (a zero part of a status mix, requests with no access log).
fn marked_or_zero(html: &str, key: &str) -> u64 {
    match marked(html, key)[..] {
        [] => 0,
        [n] => n,
        ref many => panic!("{key} marked {} times: {many:?}", many.len()),
    }
}

/// The part of the page that holds incident `id`.
fn section(html: &str, id: u64) -> &str {
    let start = html
        .find(&format!("id=\"incident-{id}\""))
        .unwrap_or_else(|| panic!("no section for incident {id}"));
    let end = html[start..].find("</details>").unwrap();
    &html[start..start + end]
}

/// Every `<` of the page opens or closes an element we write: text from the
/// logs never became markup.
fn only_our_tags(html: &str) {
    const TAGS: [&str; 41] = [
        "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3",
        "p", "strong", "span", "dl", "dt", "dd", "a", "nav", "table", "thead", "tbody", "tr", "th",
        "td", "section", "ul", "ol", "li", "code", "figure", "svg", "line", "text", "rect", "g",
        "details", "summary", "div", "br", "footer",
    ];
    for (i, _) in html.match_indices('<') {
        let rest = html[i + 1..].trim_start_matches('/');
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect();
        assert!(
            TAGS.contains(&name.as_str()),
            "unexpected markup <{name} at byte {i}: {}",
            &html[i..(i + 80).min(html.len())]
        );
    }
}

/// The page says what the JSON report says: one section and one zoomed
/// chart per incident plus the overview, and the same counts.
fn same_as_json(html: &str, json: &Value) {
    only_our_tags(html);
    let incidents = json["incidents"].as_array().unwrap();
    assert_eq!(
        count(html, "<details class=\"incident"),
        incidents.len(),
        "one section per incident"
    );
    assert_eq!(count(html, "<svg class=\"chart overview\""), 1);
    assert_eq!(
        count(html, "<svg class=\"chart zoom\""),
        incidents.len(),
        "one zoomed chart per incident"
    );
    assert_eq!(count(html, "<svg "), incidents.len() + 1);
    let t = &json["totals"];
    let header = &html[..html.find("</header>").unwrap()];
    for key in ["gateway_errors", "status_502", "status_504", "requests"] {
        assert_eq!(
            marked_or_zero(header, key),
            t[key].as_u64().unwrap(),
            "totals.{key}"
        );
    }
    assert_eq!(marked(html, "incidents"), [incidents.len() as u64]);
    assert_eq!(
        marked(html, "background"),
        [json["background"]["gateway_errors"].as_u64().unwrap()]
    );
    for inc in incidents {
        let id = inc["id"].as_u64().unwrap();
        let s = section(html, id);
        for key in ["gateway_errors", "status_502", "status_504"] {
            assert_eq!(
                marked_or_zero(s, key),
                inc[key].as_u64().unwrap(),
                "incident {id} {key}"
            );
        }
        // No zero part: "502 × 5" alone, never "504 × 0".
        assert!(
            !s.contains("data-k=\"status_502\">0<") && !s.contains("data-k=\"status_504\">0<"),
            "incident {id} shows a zero part"
        );
        let verdict = inc["verdict"].as_str().unwrap();
        assert!(s.contains(&format!("class=\"badge v-{verdict}\">{verdict}<")));
        assert!(s.contains(&format!(
            "<strong class=\"cause\">{}</strong>",
            inc["cause"].as_str().unwrap()
        )));
        let handoff = inc["handoff"].as_str().unwrap().replace('>', "&gt;");
        assert!(s.contains(&format!("<span class=\"handoff\">{handoff}</span>")));
        // Evidence sentences, next steps and lines: one item each.
        let items =
            inc["evidence"].as_array().unwrap().len() + inc["next_steps"].as_array().unwrap().len();
        assert_eq!(count(s, "<li>"), items, "incident {id} evidence and steps");
        // Every evidence line and every change before it, with its file:line.
        assert_eq!(
            count(s, "<td class=\"loc\">"),
            inc["evidence_refs"].as_array().unwrap().len()
                + inc["changes"].as_array().map_or(0, Vec::len)
        );
        // Phases, ruled-out causes: as many as the JSON lists.
        let phases = inc["phases"].as_array().map_or(0, Vec::len);
        if phases > 1 {
            assert_eq!(
                count(s, "<span class=\"phase p-"),
                phases,
                "incident {id} phases"
            );
            assert_eq!(
                count(s, "<rect class=\"phase p-"),
                phases,
                "incident {id} phase lane"
            );
        }
        assert_eq!(
            count(s, "<dt><span class=\"badge v-"),
            inc["ruled_out"].as_array().map_or(0, Vec::len),
            "incident {id} ruled out"
        );
        assert_eq!(
            count(s, "<svg class=\"chart zoom\""),
            1,
            "incident {id} chart"
        );
        for c in inc["culprits"].as_array().unwrap() {
            assert!(s.contains(&format!("<code>{}</code>", c["name"].as_str().unwrap())));
        }
    }
    // The band of each incident links to it in the overview, labelled.
    let overview = &html[html.find("<svg class=\"chart overview\"").unwrap()..];
    let overview = &overview[..overview.find("</svg>").unwrap()];
    for inc in incidents {
        assert!(overview.contains(&format!("<a href=\"#incident-{}\">", inc["id"])));
        assert!(
            overview.contains(&format!(">#{}</text>", inc["id"])),
            "incident {} has no label",
            inc["id"]
        );
    }
    charts_true_to_time(html, json);
    // Background findings after the incidents, one each.
    let findings = json["background"]["findings"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(count(html, "<details class=\"finding"), findings);
    if findings > 0 {
        assert!(html.find("<section id=\"findings\">") > html.find("<section id=\"incidents\">"));
    }
    // The input files with the JSON's counts.
    let files = json["files"].as_array().unwrap();
    for key in ["lines", "parsed", "skipped"] {
        let want: Vec<u64> = files.iter().map(|f| f[key].as_u64().unwrap()).collect();
        assert_eq!(marked(html, key), want, "files[].{key}");
    }
}

/// A number attribute `key="..."` of the element starting at `el`.
fn attr(el: &str, key: &str) -> f64 {
    let needle = format!(" {key}=\"");
    let el = &el[..el.find('>').unwrap()];
    let rest = &el[el
        .find(&needle)
        .unwrap_or_else(|| panic!("no {key} in {el}"))
        + needle.len()..];
    rest[..rest.find('"').unwrap()].parse().unwrap()
}

/// Seconds of an RFC 3339 time.
fn unix(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp()
}

/// The charts are true to time: the overview spans the window read, to
/// its last second and no further; each incident's chart spans the
/// incident with a lead-in, inside the window; every bar lies inside its
/// own minute (as far as the chart shows it); every band starts at its
/// incident's first error.
fn charts_true_to_time(html: &str, json: &Value) {
    let window = (
        json["window"]["start"].as_str().map(unix),
        json["window"]["end"].as_str().map(unix),
    );
    let incidents = json["incidents"].as_array().unwrap();
    let mut zooms = 0;
    for (i, _) in html.match_indices("<svg class=\"chart ") {
        let svg = &html[i..];
        let svg = &svg[..svg.find("</svg>").unwrap()];
        let (from, to) = (attr(svg, "data-from"), attr(svg, "data-to"));
        let (x0, x1) = (attr(svg, "data-x0"), attr(svg, "data-x1"));
        let x = |t: f64| x0 + (t.clamp(from, to) - from) / (to - from) * (x1 - x0);
        if let (Some(ws), Some(we)) = window
            && we - ws >= 60
        {
            assert!(
                from >= ws as f64 && to <= (we + 1) as f64,
                "chart {from}..{to} outside the window {ws}..{we}"
            );
            if svg.starts_with("<svg class=\"chart overview\"") {
                assert_eq!(
                    (from, to),
                    (ws as f64, (we + 1) as f64),
                    "the overview is the window"
                );
            }
        }
        if svg.starts_with("<svg class=\"chart zoom\"") {
            let inc = &incidents[zooms];
            zooms += 1;
            let (s, e) = (
                unix(inc["start"].as_str().unwrap()),
                unix(inc["end"].as_str().unwrap()),
            );
            assert!(
                from <= s as f64 && to > e as f64,
                "incident {} outside its chart",
                inc["id"]
            );
            // The lead-in: a minute, a quarter of the incident when longer,
            // and back to the earliest change before it.
            let changes = inc["changes"].as_array().map_or(0, |c| {
                c.iter()
                    .map(|c| c["seconds_before_first_error"].as_i64().unwrap() + 10)
                    .max()
                    .unwrap_or(0)
            });
            let lead = ((e - s) / 4).max(60).max(changes);
            let ws = window.0.unwrap_or(i64::MIN);
            // At most a minute earlier when a short incident is shown as a
            // whole minute.
            let want = (s - lead).max(ws) as f64;
            assert!(
                from <= want && from >= want - 60.0,
                "incident {}: chart from {from}, not zoomed to it with its lead-in ({want})",
                inc["id"]
            );
        }
        for (j, _) in svg.match_indices("<g class=\"bar\" ") {
            let g = &svg[j..];
            let (t, end) = (attr(g, "data-t"), attr(g, "data-end"));
            let rect = &g[g.find("<rect ").unwrap()..];
            let (bx, bw) = (attr(rect, "x"), attr(rect, "width"));
            assert!(
                bx >= x(t) - 0.05 && bx + bw <= x(end) + 0.05,
                "bar of {t} at {bx}+{bw} outside its minute {}..{}",
                x(t),
                x(end)
            );
        }
        for (j, _) in svg.match_indices("<rect class=\"band ") {
            let b = &svg[j..];
            let t = attr(b, "data-from");
            if t >= from {
                assert!((attr(b, "x") - x(t)).abs() < 0.06, "band off its start");
            }
        }
    }
    assert_eq!(zooms, incidents.len());
}

#[test]
fn samples_page_matches_the_json_report() {
    let (html, json) = reports("testdata/sample");
    assert!(!json["incidents"].as_array().unwrap().is_empty());
    same_as_json(&html, &json);
    assert!(html.starts_with("<!DOCTYPE html><html lang=\"en\">"));
    // Self-contained: no script, nothing fetched.
    assert!(!html.contains("<script"));
    assert!(!html.contains("src="));
    assert!(no_fetch(&html));
    assert!(html.contains("Content-Security-Policy"));
    assert!(html.contains("@media print"));
}

/// `http(s)://` appears only as text (log lines, upstream names), never in
/// an attribute that would fetch it.
fn no_fetch(html: &str) -> bool {
    ["src=", "href=\"http", "url(", "@import"]
        .iter()
        .all(|n| !html.contains(n))
}

/// Minutes since 10:00 and a second, as each log writes the time.
struct At(u32);

impl At {
    fn hms(&self) -> String {
        format!("10:{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
    fn access(&self) -> String {
        format!("[24/Nov/2026:{} +0000]", self.hms())
    }
    fn error(&self) -> String {
        format!("2026/11/24 {}", self.hms())
    }
    fn fpm(&self) -> String {
        format!("[24-Nov-2026 {}]", self.hms())
    }
    fn kern(&self) -> String {
        format!("[Tue Nov 24 {} 2026]", self.hms())
    }
}

const SOCK: &str = "unix:/run/php/php8.2-fpm.sock";

/// A log set of one hour with background traffic and five incidents: FPM
/// restart (refused), socket permission, a slow external call, an OOM kill,
/// and too big headers on a path that holds `<script>`, quotes and invalid
/// UTF-8.
struct LogSet {
    access: Vec<(u32, Vec<u8>)>,
    error: Vec<(u32, Vec<u8>)>,
    fpm: Vec<(u32, String)>,
    slow: String,
    kern: String,
    conn: u32,
}

/// The path of the hostile incident's requests, as bytes.
const HOSTILE: &[u8] = b"/x/<script>alert(1)</script>/'q'/\"dq\"/\xff\xfe.php";

impl LogSet {
    fn request(&mut self, at: u32, method: &str, path: &[u8], status: u16) {
        self.conn += 1;
        let mut line = format!(
            "203.0.113.{} - - {} \"{method} ",
            self.conn % 250,
            At(at).access()
        )
        .into_bytes();
        // nginx writes a `"` of the request line as \x22.
        for &b in path {
            if b == b'"' {
                line.extend_from_slice(b"\\x22");
            } else {
                line.push(b);
            }
        }
        line.extend_from_slice(
            format!(" HTTP/1.1\" {status} 157 \"-\" \"Mozilla/5.0\"\n").as_bytes(),
        );
        self.access.push((at, line));
    }

    fn upstream_error(&mut self, at: u32, level: &str, message: &str, path: &[u8]) {
        let mut line = format!(
            "{} [{level}] 1187#1187: *{} {message}, client: 203.0.113.9, server: shop.example.com, request: \"GET ",
            At(at).error(),
            self.conn
        )
        .into_bytes();
        line.extend_from_slice(path);
        line.extend_from_slice(
            format!(" HTTP/1.1\", upstream: \"fastcgi://{SOCK}:\", host: \"shop.example.com\"\n")
                .as_bytes(),
        );
        self.error.push((at, line));
    }

    fn build() -> LogSet {
        let mut s = LogSet {
            access: Vec::new(),
            error: Vec::new(),
            fpm: Vec::new(),
            slow: String::new(),
            kern: String::new(),
            conn: 0,
        };
        let pages: [&[u8]; 4] = [b"/", b"/shop/", b"/cart/", b"/product/mug/"];
        for t in (0..3600).step_by(2) {
            s.request(t, "GET", pages[(t / 2 % 4) as usize], 200);
        }
        // FPM restart at 10:08: refused while the master is down.
        s.fpm.push((480, "NOTICE: Terminating ...".into()));
        s.fpm.push((481, "NOTICE: exiting, bye-bye!".into()));
        for k in 0..20 {
            let at = 481 + k;
            s.request(at, "GET", b"/shop/", 502);
            let m = format!(
                "connect() to {SOCK} failed (111: Connection refused) while connecting to upstream"
            );
            s.upstream_error(at, "error", &m, b"/shop/");
        }
        s.fpm.push((502, "NOTICE: fpm is running, pid 2108".into()));
        s.fpm
            .push((502, "NOTICE: ready to handle connections".into()));
        // Socket permission at 10:20.
        for k in 0..15 {
            let at = 1200 + 2 * k;
            s.request(at, "GET", b"/cart/", 502);
            let m = format!(
                "connect() to {SOCK} failed (13: Permission denied) while connecting to upstream"
            );
            s.upstream_error(at, "crit", &m, b"/cart/");
        }
        // A slow external call at 10:32: slow traces, then 504s.
        for k in 0..12 {
            let at = 1920 + 3 * k;
            let pid = 800 + k;
            s.fpm.push((at, format!(
                "WARNING: [pool www] child {pid}, script '/var/www/html/index.php' (request: \"POST /checkout/\") executing too slow (5.0{k:02} sec), logging"
            )));
            let _ = write!(
                s.slow,
                "\n{}  [pool www] pid {pid}\nscript_filename = /var/www/html/index.php\n\
                 [0x00007f3a1c22d2c0] curl_exec() /var/www/html/wp-content/plugins/rates-live/api.php:88\n\
                 [0x00007f3a1c22d240] request() /var/www/html/wp-content/plugins/rates-live/api.php:142\n\
                 [0x00007f3a1c22d040] apply_filters() /var/www/html/wp-includes/class-wp-hook.php:324\n\
                 [0x00007f3a1c22cfc0] require() /var/www/html/index.php:17\n",
                At(at).fpm()
            );
            let done = at + 55;
            s.request(done, "POST", b"/checkout/", 504);
            s.upstream_error(
                done,
                "error",
                "upstream timed out (110: Connection timed out) while reading response header from upstream",
                b"/checkout/",
            );
        }
        // An OOM kill at 10:45: resets by peer.
        let _ = writeln!(
            s.kern,
            "{} oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/php8.2-fpm.service,task=php-fpm8.2,pid=2125,uid=33",
            At(2700).kern()
        );
        let _ = writeln!(
            s.kern,
            "{} Out of memory: Killed process 2125 (php-fpm8.2) total-vm:2313258kB, anon-rss:1221182kB, file-rss:5806kB, shmem-rss:549kB, UID:33 pgtables:3215kB oom_score_adj:0",
            At(2700).kern()
        );
        s.fpm.push((
            2700,
            "WARNING: [pool www] child 2125 exited on signal 9 (SIGKILL) after 85.456686 seconds from start".into(),
        ));
        for k in 0..6 {
            let at = 2700 + k;
            s.request(at, "GET", b"/wp-admin/admin-ajax.php?action=export", 502);
            s.upstream_error(
                at,
                "error",
                "recv() failed (104: Connection reset by peer) while reading response header from upstream",
                b"/wp-admin/admin-ajax.php?action=export",
            );
        }
        // Too big headers at 10:52 on a hostile path.
        for k in 0..10 {
            let at = 3120 + 2 * k;
            s.request(at, "GET", HOSTILE, 502);
            s.upstream_error(
                at,
                "error",
                "upstream sent too big header while reading response header from upstream",
                HOSTILE,
            );
        }
        s
    }

    fn write(mut self, dir: &Path) {
        self.access.sort_by_key(|(t, _)| *t);
        self.error.sort_by_key(|(t, _)| *t);
        self.fpm.sort_by_key(|(t, _)| *t);
        let join = |v: Vec<(u32, Vec<u8>)>| v.into_iter().flat_map(|(_, l)| l).collect::<Vec<u8>>();
        std::fs::write(dir.join("access.log"), join(self.access)).unwrap();
        std::fs::write(dir.join("error.log"), join(self.error)).unwrap();
        let fpm: String = self
            .fpm
            .iter()
            .map(|(t, m)| format!("{} {m}\n", At(*t).fpm()))
            .collect();
        std::fs::write(dir.join("php-fpm.log"), fpm).unwrap();
        std::fs::write(dir.join("www-slow.log"), self.slow).unwrap();
        std::fs::write(dir.join("kern.log"), self.kern).unwrap();
    }
}

#[test]
fn several_incident_kinds_page_matches_the_json_report() {
    let dir = tempdir("kinds");
    LogSet::build().write(&dir);
    let (html, json) = reports(dir.to_str().unwrap());
    let incidents = json["incidents"].as_array().unwrap();
    let verdicts: BTreeSet<&str> = incidents
        .iter()
        .map(|i| i["verdict"].as_str().unwrap())
        .collect();
    assert!(
        incidents.len() >= 4 && verdicts.len() >= 3,
        "the hand-made set should give several kinds of incidents: {verdicts:?}"
    );
    same_as_json(&html, &json);
    // The overview's bar of 10:08 (the FPM restart's refused 502s) is
    // drawn inside 10:08:00..10:09:00 (charts_true_to_time checked where).
    let ten_08 = unix("2026-11-24T10:08:00+00:00");
    let overview = &html[html.find("<svg class=\"chart overview\"").unwrap()..];
    assert!(overview.contains(&format!(
        "<g class=\"bar\" data-t=\"{ten_08}\" data-end=\"{}\">",
        ten_08 + 60
    )));
    // The axis ends at the last line read (10:59:58), not rounded up.
    assert_eq!(
        attr(overview, "data-to"),
        (unix("2026-11-24T10:59:58+00:00") + 1) as f64
    );
    // Marks of the FPM restart, the OOM kill and the slow requests are drawn.
    for class in ["m-restart", "m-oom", "m-slow", "m-signal"] {
        assert!(html.contains(&format!("class=\"mark {class}\"")), "{class}");
    }
    // The culprit plugin and its frame.
    assert!(html.contains("<code>rates-live</code>"));
    assert!(html.contains("curl_exec() /var/www/html/wp-content/plugins/rates-live/api.php:88"));
    // The admin-ajax action is shown beside its path.
    assert!(html.contains(
        "<code>/wp-admin/admin-ajax.php</code></td><td class=\"action\"><code>export</code>"
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn text_from_the_logs_is_escaped() {
    let dir = tempdir("escape");
    LogSet::build().write(&dir);
    let (html, json) = reports(dir.to_str().unwrap());
    // The JSON keeps the hostile path as text, invalid bytes as \xHH.
    let paths: Vec<&str> = json["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["top_paths"].as_array().unwrap())
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    // (nginx wrote the quotes as \x22; baton shows that backslash as \\.)
    let hostile = "/x/<script>alert(1)</script>/'q'/\\\\x22dq\\\\x22/\\xff\\xfe.php";
    assert!(paths.contains(&hostile), "{paths:?}");
    // The page shows it as text: escaped, and never as an element.
    only_our_tags(&html);
    assert!(!html.to_ascii_lowercase().contains("<script"));
    let escaped = "/x/&lt;script&gt;alert(1)&lt;/script&gt;/'q'/\\\\x22dq\\\\x22/\\xff\\xfe.php";
    assert!(html.contains(&format!("<code>{escaped}</code>")));
    // The error log's raw `"` of the request line, in an evidence line.
    assert!(html.contains("request: &quot;GET /x/&lt;script&gt;alert(1)&lt;/script&gt;/'q'/&quot;dq&quot;/\\xff\\xfe.php HTTP/1.1&quot;"));
    // Raw invalid bytes never reach the page (it is valid UTF-8: `reports`
    // checked), and the evidence line is a text cell.
    assert!(!html.contains('\u{fffd}'));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn output_file_and_an_empty_report() {
    let dir = tempdir("empty");
    std::fs::write(
        dir.join("access.log"),
        "203.0.113.1 - - [24/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"\n",
    )
    .unwrap();
    let out = dir.join("report.html");
    baton(&[
        "report",
        "--format",
        "html",
        "-o",
        out.to_str().unwrap(),
        dir.join("access.log").to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&out).unwrap();
    only_our_tags(&html);
    // "No incident" only with what was read and when.
    assert!(html.contains("No incident in access log"), "{html}");
    assert!(html.contains("no gateway error outside the background"));
    assert_eq!(count(&html, "<details class=\"incident"), 0);
    assert_eq!(count(&html, "<svg class=\"chart overview\""), 1);
    assert_eq!(marked(&html, "requests"), [1]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A `baton-gen` set with every incident kind, when `.ci/run` made one.
#[test]
fn generated_scenario_page_matches_the_json_report() {
    let Some(dir) = std::env::var_os("BATON_HTML_SCENARIO") else {
        eprintln!("BATON_HTML_SCENARIO not set: skipped (.ci/run sets it)");
        return;
    };
    let (html, json) = reports(dir.to_str().unwrap());
    let causes: BTreeSet<&str> = json["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["cause"].as_str().unwrap())
        .collect();
    assert!(causes.len() >= 10, "{causes:?}");
    same_as_json(&html, &json);
}

/// The sample's #2 lost workers four ways (pid 32570 OOM-killed at its
/// cgroup's limit, 31660 on SIGSEGV, 31718 SIGKILLed with no OOM line,
/// 32543 cut at request_terminate_timeout): its heading says so, with
/// the count of each; #1 lost none.
#[test]
fn an_incident_heading_names_each_way_its_workers_died() {
    let (html, _) = reports("testdata/sample");
    let two = section(&html, 2);
    let summary = &two[..two.find("</summary>").unwrap()];
    assert!(
        summary.contains(
            "<span class=\"deaths\">— 4 workers died: 1 OOM-killed (cgroup), 1 SIGSEGV, 1 SIGKILL from outside, 1 request_terminate_timeout</span>"
        ),
        "{summary}"
    );
    assert!(!section(&html, 1).contains("class=\"deaths\""));
}

/// The page's headline says which witness the gateway errors were counted
/// from, as the text report's does (issue 16, point 4).
#[test]
fn the_headline_names_the_witness_it_counted_from() {
    let (html, _) = reports("testdata/sample/error.log");
    assert!(
        html.contains("gateway errors (502 × <span class=\"n\" data-k=\"status_502\">19</span>, 504 × <span class=\"n\" data-k=\"status_504\">1</span>) counted from the error log (no access log read)</p>"),
        "{html}"
    );
    let (html, _) = reports("testdata/sample");
    assert!(
        html.contains(" requests, counted from the access log</p>"),
        "{html}"
    );
}
