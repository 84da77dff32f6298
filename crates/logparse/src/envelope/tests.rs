use super::*;
use crate::detect::{Format, detect};
use proptest::prelude::*;

/// The pasted lines of issue 19.
const DOCKER_T: &[u8] = b"2017-05-10T06:50:00.434167704Z 2017/05/10 06:50:00 [error] 23#23: *423240 connect() to unix:/var/run/php-fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream, client: 172.17.0.1, server: localhost, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://unix:/var/run/php-fpm.sock:\", host: \"localhost\"";
const CRI: &[u8] = b"2023-11-06T21:09:49.65381919Z stderr F [06-Nov-2023 21:09:49] WARNING: [pool www] child 132 exited on signal 9 (SIGKILL) after 1017.285544 seconds from start";
const COMPOSE_ACCESS: &[u8] = b"server_1  | 128.14.209.162 - - [04/Jun/2020:10:11:12 +0000] \"GET / HTTP/1.1\" 502 157 \"-\" \"Mozilla/5.0\"";

fn unwrapped(env: Envelope, input: &[u8]) -> Vec<u8> {
    unwrap_sample(env, input)
}

#[test]
fn pasted_lines_unwrap_to_their_inner_line() {
    let w = unwrap_line(Envelope::Timestamped, DOCKER_T).unwrap();
    assert_eq!(w.time.unwrap().unix_us, 1_494_399_000_434_167);
    assert_eq!(w.message, Message::Raw(&DOCKER_T[31..]));
    assert!(!w.partial);
    let w = unwrap_line(Envelope::Cri, CRI).unwrap();
    assert_eq!(w.stream, Stream::Stderr);
    assert_eq!(w.message, Message::Raw(&CRI[39..]));
    assert!(CRI[39..].starts_with(b"[06-Nov-2023"));
    let w = unwrap_line(Envelope::Compose, COMPOSE_ACCESS).unwrap();
    assert_eq!(w.name, b"server_1");
    assert_eq!(w.message, Message::Raw(&COMPOSE_ACCESS[12..]));
    assert_eq!(w.time, None);
}

#[test]
fn pasted_lines_are_detected_inside_their_envelope() {
    let d = detect(&[DOCKER_T, b"\n"].concat());
    assert_eq!(
        (d.format, d.envelope),
        (Format::NginxError, Some(Envelope::Timestamped))
    );
    // The envelope's UTC time and the line's own local time agree: UTC.
    assert_eq!(d.envelope_offset, Some(0));
    let d = detect(&[CRI, b"\n"].concat());
    assert_eq!(
        (d.format, d.envelope),
        (Format::FpmLog, Some(Envelope::Cri))
    );
    let d = detect(&[COMPOSE_ACCESS, b"\n"].concat());
    assert_eq!(
        (d.format, d.envelope),
        (Format::NginxAccess, Some(Envelope::Compose))
    );
    assert_eq!(d.access.unwrap().variant(), "combined");
}

#[test]
fn a_journal_is_no_envelope() {
    let j = b"2026-11-24T11:19:08+0000 vm nginx[3523]: 2026/11/24 11:19:08 [notice] 1#1: signal process started\nNov 24 11:19:08 vm php-fpm8.2[3399]: [NOTICE] fpm is running, pid 3399\n";
    assert_eq!(detect(j).envelope, None);
    let rfc = b"2026-11-24T11:19:08.123456+00:00 vm systemd[1]: Started php8.2-fpm.service - The PHP 8.2 FastCGI Process Manager.\n";
    let d = detect(&rfc.repeat(3));
    assert_eq!((d.format, d.envelope), (Format::Journal, None));
}

#[test]
fn zone_of_offset_less_inner_lines() {
    // nginx in a container with TZ=Europe/Berlin in winter: +01:00.
    let s = b"2026-11-24T10:17:00.5Z 2026/11/24 11:17:00 [error] 1#1: x\n";
    assert_eq!(zone_hint(Envelope::Timestamped, s), Some(3600));
    let s =
        b"2026-11-24T16:17:00.1Z stderr F [24-Nov-2026 11:17:00] NOTICE: fpm is running, pid 1\n";
    assert_eq!(zone_hint(Envelope::Cri, s), Some(-5 * 3600));
    // Two lines that disagree say nothing.
    let s = b"2026-11-24T10:17:00Z 2026/11/24 11:17:00 [error] 1#1: x\n2026-11-24T10:18:00Z 2026/11/24 10:18:00 [error] 1#1: x\n";
    assert_eq!(zone_hint(Envelope::Timestamped, s), None);
    // No offset-less time inside: nothing to say.
    assert_eq!(zone_hint(Envelope::Compose, COMPOSE_ACCESS), None);
}

#[test]
fn docker_json_lines_and_partials() {
    let input = br#"{"log":"a \"quoted\" \\n not an end\n","stream":"stdout","time":"2017-05-10T06:50:00.434167704Z"}
{"log":"first half, ","stream":"stderr","time":"2017-05-10T06:50:00.5Z"}
{"log":"out\n","stream":"stdout","time":"2017-05-10T06:50:00.6Z"}
{"log":"second half\n","stream":"stderr","time":"2017-05-10T06:50:00.7Z"}
{"log":"crlf\r\n","stream":"stdout","time":"2017-05-10T06:50:00.8Z","attrs":{"tag":"x"}}
not json at all
{"log":"unicode \u00e9 and tab\t\n","stream":"stdout","time":"2017-05-10T06:50:00.9Z"}
"#;
    assert_eq!(sniff(input), Some(Envelope::DockerJson));
    let out = unwrapped(Envelope::DockerJson, input);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "a \"quoted\" \\n not an end\nout\nfirst half, second half\ncrlf\nnot json at all\nunicode \u{e9} and tab\t\n"
    );
}

#[test]
fn cri_partials_join_per_stream() {
    let input = b"2023-11-06T21:09:49.1Z stdout P GET /a \n2023-11-06T21:09:49.2Z stderr F err line\n2023-11-06T21:09:49.3Z stdout F HTTP/1.1\n2023-11-06T21:09:49.4Z stdout F\n2023-11-06T21:09:49.5Z stdout F:x tagged\n";
    assert_eq!(sniff(input), Some(Envelope::Cri));
    assert_eq!(
        unwrapped(Envelope::Cri, input),
        b"err line\nGET /a HTTP/1.1\n\ntagged\n"
    );
    // A partial at the end of the input is a line of its own.
    assert_eq!(
        unwrapped(Envelope::Cri, b"2023-11-06T21:09:49.1Z stdout P cut"),
        b"cut\n"
    );
}

#[test]
fn compose_prefixes_with_colours_and_times() {
    let input = b"\x1b[36mnginx-1      |\x1b[0m 2020/06/04 10:00:00 [error] 1#1: x\nwordpress_1  | [04-Jun-2020 10:00:01] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it\nnginx-1  | 2020-06-04T10:00:02.000000000Z 10.0.0.1 - - [04/Jun/2020:10:00:02 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"\nnginx-1  |\n";
    assert_eq!(sniff(input), Some(Envelope::Compose));
    let out = unwrapped(Envelope::Compose, input);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "2020/06/04 10:00:00 [error] 1#1: x\n[04-Jun-2020 10:00:01] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it\n10.0.0.1 - - [04/Jun/2020:10:00:02 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"\n\n"
    );
    // Not compose: no bar, no padding, a `$host` field.
    assert!(unwrap_line(Envelope::Compose, b"example.com 10.0.0.1 - - [x]").is_none());
    assert!(unwrap_line(Envelope::Compose, b"name |x").is_none());
}

/// Reads `input` through [`Unwrap`] in reads of `step` bytes.
fn read_all(env: Envelope, input: &[u8], step: usize) -> (Vec<u8>, EnvelopeSummary) {
    let counts = Arc::new(EnvelopeCounts::default());
    let mut r = Unwrap::new(input, env, counts.clone());
    let mut out = Vec::new();
    let mut buf = vec![0u8; step.max(1)];
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    (out, counts.summary(env))
}

#[test]
fn the_reader_counts_what_it_unwraps() {
    let input = b"2023-11-06T21:09:49.1Z stdout P a\n2023-11-06T21:09:49.2Z stdout F b\nnoise\n2023-11-06T21:09:49.3Z stderr F c";
    let (out, s) = read_all(Envelope::Cri, input, 3);
    assert_eq!(out, b"ab\nnoise\nc\n");
    assert_eq!((s.physical_lines, s.partials, s.not_enveloped), (4, 1, 1));
}

/// A compose stream of several services: one filter per service in
/// the order they first appear, each reader keeps its service's lines
/// (the first also the lines outside the envelope and services first seen
/// after the sample), and together they keep every line once.
#[test]
fn compose_services_are_read_apart() {
    let input: &[u8] = b"web-1  | 10.0.0.1 - - [04/Jun/2020:10:11:12 +0000] \"GET / HTTP/1.1\" 502 1 \"-\" \"-\"\n\
php-1  | [04-Jun-2020 10:11:12] WARNING: [pool www] child 7 exited on signal 9 (SIGKILL) after 1.0 seconds from start\n\
noise\n\
web-1  | 10.0.0.2 - - [04/Jun/2020:10:11:13 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"\n\
late-1 | hello\n";
    // The sample: the first two lines only.
    let sample = &input[..input
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(1)
        .unwrap()
        .0
        + 1];
    let filters = services(sample);
    let names: Vec<&[u8]> = filters.iter().map(|f| f.name.as_slice()).collect();
    assert_eq!(names, [&b"web-1"[..], b"php-1"]);
    assert_eq!(
        filters.iter().map(|f| f.strays).collect::<Vec<_>>(),
        [true, false]
    );
    let read = |only: &ServiceFilter, step: usize| {
        let counts = Arc::new(EnvelopeCounts::default());
        let mut r =
            Unwrap::for_service(input, Envelope::Compose, counts.clone(), Some(only.clone()));
        let mut out = Vec::new();
        let mut buf = vec![0u8; step];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        (out, counts.summary(Envelope::Compose))
    };
    for step in [1, 7, 4096] {
        let (web, ws) = read(&filters[0], step);
        assert_eq!(
            String::from_utf8(web).unwrap(),
            "10.0.0.1 - - [04/Jun/2020:10:11:12 +0000] \"GET / HTTP/1.1\" 502 1 \"-\" \"-\"\nnoise\n10.0.0.2 - - [04/Jun/2020:10:11:13 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"\nhello\n"
        );
        assert_eq!((ws.physical_lines, ws.not_enveloped), (4, 1));
        let (php, ps) = read(&filters[1], step);
        assert!(php.starts_with(b"[04-Jun-2020 10:11:12] WARNING:"));
        assert_eq!(php.iter().filter(|b| **b == b'\n').count(), 1);
        assert_eq!((ps.physical_lines, ps.not_enveloped), (1, 0));
    }
    // Each service's lines are detected as their own log.
    let web = crate::detect::detect_service(sample, &filters[0]);
    assert_eq!(web.format, Format::NginxAccess);
    assert_eq!(web.service.as_ref(), Some(&filters[0]));
    let php = crate::detect::detect_service(sample, &filters[1]);
    assert_eq!(php.format, Format::FpmLog);
}

/// Wraps plain lines in `env`, each cut into pieces at `cuts` (for the
/// envelopes that have partials).
fn wrap(env: Envelope, lines: &[String], cuts: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let cut = cuts.get(i).map_or(0, |c| c % (l.len() + 1));
        let cut = (0..=cut)
            .rev()
            .find(|c| l.is_char_boundary(*c))
            .unwrap_or(0);
        let pieces: Vec<&str> = if cut > 0 && cut < l.len() {
            vec![&l[..cut], &l[cut..]]
        } else {
            vec![l.as_str()]
        };
        for (k, p) in pieces.iter().enumerate() {
            let last = k + 1 == pieces.len();
            match env {
                Envelope::DockerJson => {
                    let mut esc =
                        serde_json::to_string(&format!("{p}{}", if last { "\n" } else { "" }))
                            .unwrap();
                    esc = esc[1..esc.len() - 1].to_string();
                    out.extend_from_slice(format!("{{\"log\":\"{esc}\",\"stream\":\"stdout\",\"time\":\"2026-11-24T11:17:00.123456789Z\"}}\n").as_bytes());
                }
                Envelope::Cri => {
                    let tag = if last { "F" } else { "P" };
                    out.extend_from_slice(
                        format!("2026-11-24T11:17:00.123456789Z stdout {tag} {p}\n").as_bytes(),
                    );
                }
                Envelope::Timestamped => {
                    out.extend_from_slice(
                        format!("2026-11-24T11:17:00.123456789Z {l}\n").as_bytes(),
                    );
                    break;
                }
                Envelope::Compose => {
                    out.extend_from_slice(format!("nginx-1  | {l}\n").as_bytes());
                    break;
                }
            }
        }
    }
    out
}

proptest! {
    #[test]
    fn round_trip_equals_plain(
        lines in prop::collection::vec("[ -~é]{0,60}", 0..20),
        cuts in prop::collection::vec(0usize..80, 20),
        step in 1usize..64,
    ) {
        let plain: Vec<u8> = lines.iter().flat_map(|l| format!("{l}\n").into_bytes()).collect();
        for env in Envelope::ALL {
            let wrapped = wrap(env, &lines, &cuts);
            prop_assert_eq!(&unwrap_sample(env, &wrapped), &plain, "{:?}", env);
            let (read, s) = read_all(env, &wrapped, step);
            prop_assert_eq!(&read, &plain, "{:?}", env);
            prop_assert_eq!(s.physical_lines, crate::frame::count_lines(&wrapped));
        }
    }

    #[test]
    fn any_bytes_unwrap_without_panic(input in prop::collection::vec(any::<u8>(), 0..400), step in 1usize..50) {
        for env in Envelope::ALL {
            let (_, s) = read_all(env, &input, step);
            prop_assert_eq!(s.physical_lines, crate::frame::count_lines(&input));
            prop_assert!(s.not_enveloped + s.partials <= s.physical_lines);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    /// Inputs of many reader buffers (1.6 MB), with and without partial
    /// lines and lines outside the envelope: the reader gives the
    /// container's lines and the counts of the line-by-line unwrap, for any
    /// read size.
    #[test]
    fn big_inputs_unwrap_as_the_serial_reference(
        lines in prop::collection::vec("[ -~é]{0,80}", 1..30),
        cuts in prop::collection::vec(0usize..100, 30),
        with_partials in any::<bool>(),
        noise in any::<bool>(),
        step in prop::sample::select(vec![1usize << 10, 64 << 10, 1 << 20]),
    ) {
        let cuts: Vec<usize> = if with_partials { cuts } else { vec![0; 30] };
        for env in [Envelope::DockerJson, Envelope::Cri, Envelope::Timestamped] {
            let mut one = wrap(env, &lines, &cuts);
            if noise {
                one.extend_from_slice(b"a line outside the envelope\n\n");
            }
            let wrapped = one.repeat((1_600_000 / one.len()).max(1) + 1);
            let reference = unwrap_sample(env, &wrapped);
            let (read, s) = read_all(env, &wrapped, step);
            prop_assert!(read == reference, "{:?}: {} bytes read, {} expected", env, read.len(), reference.len());
            prop_assert_eq!(s.physical_lines, crate::frame::count_lines(&wrapped));
            let serial = {
                let mut u = Unwrapper::default();
                let (mut partials, mut raw) = (0u64, 0u64);
                for l in wrapped.strip_suffix(b"\n").unwrap_or(&wrapped).split(|&b| b == b'\n') {
                    match u.line(env, l, &mut Vec::new()) {
                        Unwrapped::Inside { partial } => partials += partial as u64,
                        Unwrapped::Outside => raw += 1,
                        Unwrapped::Other => {}
                    }
                }
                (partials, raw)
            };
            prop_assert_eq!((s.partials, s.not_enveloped), serial);
        }
    }
}

/// Lines of a mixed nginx stream: access lines, error entries, a FastCGI
/// entry open over two lines, and lines of no format.
const MIXED_LINES: [&str; 7] = [
    r#"10.0.0.1 - - [10/May/2017:06:50:00 +0000] "GET / HTTP/1.1" 502 157 "-" "curl/7.88.1""#,
    r#"10.0.0.2 - - [10/May/2017:06:50:01 +0000] "GET /a?q=\"x\" HTTP/1.1" 200 12 "-" "Mozilla/5.0""#,
    r#"2017/05/10 06:50:00 [error] 23#23: *1 connect() to unix:/run/php/php7.0-fpm.sock failed (111: Connection refused) while connecting to upstream, client: 10.0.0.1, server: _, request: "GET / HTTP/1.1", upstream: "fastcgi://unix:/run/php/php7.0-fpm.sock:", host: "a""#,
    r#"2017/05/10 06:50:01 [error] 23#23: *2 FastCGI sent in stderr: "PHP message: PHP Warning:  x in /var/www/a.php on line 3"#,
    r#"PHP message: PHP Warning:  y in /var/www/a.php on line 4" while reading response header from upstream, client: 10.0.0.1, server: _, request: "GET / HTTP/1.1", upstream: "fastcgi://unix:/run/php/php7.0-fpm.sock:", host: "a""#,
    "not a log line",
    "",
];

/// Every record a scan gives, with where it stands and its bytes.
#[derive(Debug, Default, PartialEq)]
struct Records(Vec<(crate::frame::Loc, Vec<u8>)>);

impl<P: crate::frame::RecordParser> crate::scan::Sink<P> for Records {
    fn record(&mut self, _: P::Record<'_>, loc: crate::frame::Loc) {
        self.0.push((loc, Vec::new()));
    }

    fn record_raw(&mut self, _: P::Record<'_>, loc: crate::frame::Loc, raw: &[u8]) {
        self.0.push((loc, raw.to_vec()));
    }

    fn append(&mut self, later: Records, line_shift: u64) {
        self.0.extend(later.0.into_iter().map(|(mut loc, raw)| {
            loc.line += line_shift;
            (loc, raw)
        }));
    }

    fn shift_offsets(&mut self, shift: u64) {
        for (loc, _) in &mut self.0 {
            loc.offset += shift;
        }
    }
}

/// One physical line of an enveloped stream: `piece` of the container's
/// line, on `stream`, the line's last piece or not.
fn envelope_line(env: Envelope, stderr: bool, piece: &str, last: bool, out: &mut Vec<u8>) {
    let stream = if stderr { "stderr" } else { "stdout" };
    match env {
        Envelope::DockerJson => {
            let text = format!("{piece}{}", if last { "\n" } else { "" });
            let esc = serde_json::to_string(&text).unwrap();
            out.extend_from_slice(
                format!(
                    "{{\"log\":{esc},\"stream\":\"{stream}\",\"time\":\"2026-11-24T11:17:00.1Z\"}}\n"
                )
                .as_bytes(),
            );
        }
        Envelope::Cri => {
            let tag = if last { "F" } else { "P" };
            out.extend_from_slice(
                format!("2026-11-24T11:17:00.1Z {stream} {tag} {piece}\n").as_bytes(),
            );
        }
        Envelope::Timestamped => {
            out.extend_from_slice(format!("2026-11-24T11:17:00.1Z {piece}\n").as_bytes())
        }
        Envelope::Compose => {
            let name = if stderr { "php-1" } else { "web-1" };
            out.extend_from_slice(format!("{name}  | {piece}\n").as_bytes());
        }
    }
}

/// A mixed stream in `env`: line `picks[i]` of [`MIXED_LINES`] on the
/// stream `picks[i] / 8 % 2`, cut in two at `cuts[i]` where the envelope
/// has partials, its last piece sometimes written after the next line
/// (of the other stream), and sometimes a line outside the envelope.
fn mixed_enveloped(env: Envelope, picks: &[usize], cuts: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut held: Option<(bool, String)> = None;
    for (i, &pick) in picks.iter().enumerate() {
        let line = MIXED_LINES[pick % MIXED_LINES.len()];
        let stderr = pick / 8 % 2 == 1;
        let cut = cuts[i % cuts.len()] % (line.len() + 1);
        let partials = matches!(env, Envelope::DockerJson | Envelope::Cri);
        if pick % 31 == 30 {
            out.extend_from_slice(b"a line outside the envelope\r\n");
        }
        let held_now = held.take();
        if partials && cut > 0 && cut < line.len() {
            envelope_line(env, stderr, &line[..cut], false, &mut out);
            if pick % 5 == 0 && held_now.is_none() {
                held = Some((stderr, line[cut..].to_string()));
            } else {
                envelope_line(env, stderr, &line[cut..], true, &mut out);
            }
        } else {
            envelope_line(env, stderr, line, true, &mut out);
        }
        if let Some((s, rest)) = held_now {
            envelope_line(env, s, &rest, true, &mut out);
        }
    }
    // A partial piece may be left waiting at the end.
    if let Some((s, rest)) = held {
        envelope_line(env, s, &rest, false, &mut out);
    }
    out
}

/// The records, tally and envelope counts of `input` scanned through the
/// stream reader ([`Unwrap`]) and through the parallel segment scan.
fn both_ways<P: crate::frame::RecordParser>(
    env: Envelope,
    only: Option<&ServiceFilter>,
    input: &[u8],
    parser: &P,
    chunk: usize,
) -> [(Records, crate::scan::Tally, EnvelopeSummary); 2] {
    let opts = crate::scan::ScanOptions {
        chunk_size: chunk,
        ..crate::scan::ScanOptions::default()
    };
    let serial = {
        let counts = Arc::new(EnvelopeCounts::default());
        let r = Unwrap::for_service(input, env, counts.clone(), only.cloned());
        let s = crate::scan::scan_reader(r, parser, &opts, &Records::default);
        assert!(s.error.is_none());
        (s.sink, s.tally, counts.summary(env))
    };
    let parallel = {
        let counts = Arc::new(EnvelopeCounts::default());
        let s = crate::scan::scan_slice_unwrapped(
            input,
            env,
            only,
            &counts,
            parser,
            &opts,
            &Records::default,
        );
        assert!(s.error.is_none());
        (s.sink, s.tally, counts.summary(env))
    };
    [serial, parallel]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Issue 19: an enveloped input unwrapped inside the parallel segment
    /// scan gives what the stream reader gives (the same records at the
    /// same lines and offsets, the same skips, the same envelope counts),
    /// for any segment size, with partial lines across segment ends, the
    /// streams' partials interleaved, lines outside the envelope, and a
    /// partial left waiting at the end.
    #[test]
    fn parallel_unwrap_equals_the_stream_reader(
        picks in prop::collection::vec(0usize..64, 50..400),
        cuts in prop::collection::vec(0usize..400, 1..40),
        chunk in prop::sample::select(vec![4096usize, 5000, 9000, 1 << 20]),
    ) {
        let mixed = crate::mixed::MixedParser::new(
        Some(crate::nginx::access::AccessParser::default()),
        crate::time::Zone::UTC,
    );
        let access = crate::nginx::access::AccessParser::default();
        for env in Envelope::ALL {
            let input = mixed_enveloped(env, &picks, &cuts);
            let [a, b] = both_ways(env, None, &input, &mixed, chunk);
            prop_assert_eq!(&a.1, &b.1, "{:?}: tally", env);
            prop_assert_eq!(&a.2, &b.2, "{:?}: envelope counts", env);
            prop_assert!(a.0 == b.0, "{:?}: records differ", env);
            let [a, b] = both_ways(env, None, &input, &access, chunk);
            prop_assert_eq!(&a.1, &b.1, "{:?}: tally (access)", env);
            prop_assert!(a.0 == b.0, "{:?}: records differ (access)", env);
        }
        // Each compose service read apart.
        let input = mixed_enveloped(Envelope::Compose, &picks, &cuts);
        for only in services(&input) {
            let [a, b] = both_ways(Envelope::Compose, Some(&only), &input, &mixed, chunk);
            prop_assert_eq!(&a.1, &b.1, "{:?}: tally", only);
            prop_assert_eq!(&a.2, &b.2, "{:?}: envelope counts", only);
            prop_assert!(a.0 == b.0, "{:?}: records differ", only);
        }
    }
}

/// A physical line longer than [`MAX_LINE`] ends the parallel scan: the
/// rest is read as a stream, with the same results.
#[test]
fn a_huge_line_hands_the_rest_to_the_stream_reader() {
    let mut input = mixed_enveloped(Envelope::Cri, &(0..2000).collect::<Vec<_>>(), &[0, 30, 7]);
    input.extend_from_slice(b"2026-11-24T11:17:00.1Z stdout F ");
    input.extend(std::iter::repeat_n(b'x', MAX_LINE + 100));
    input.push(b'\n');
    let tail = mixed_enveloped(Envelope::Cri, &(0..500).collect::<Vec<_>>(), &[3]);
    input.extend_from_slice(&tail);
    let mixed = crate::mixed::MixedParser::new(
        Some(crate::nginx::access::AccessParser::default()),
        crate::time::Zone::UTC,
    );
    let [a, b] = both_ways(Envelope::Cri, None, &input, &mixed, 4096);
    assert_eq!(a.1, b.1);
    assert_eq!(a.2, b.2);
    assert!(a.0 == b.0);
    assert_eq!(a.1.skipped_for(crate::error::SkipReason::TooLong), 1);
}

/// A filter that keeps every line: the unwrapper then reads `json-file`
/// lines member by member, never by the one-pass reader of Docker's shape.
fn keep_all() -> ServiceFilter {
    ServiceFilter {
        name: Vec::new(),
        strays: true,
        known: Vec::new().into(),
    }
}

proptest! {
    /// The one-pass reader of Docker's `json-file` shape gives what the
    /// member-by-member reader gives: the same message (escapes, a final
    /// `\n` and `\r\n` that may be escaped themselves, surrogates cut
    /// short), stream and partial flag, and lines of any other shape; and
    /// so does the reader of a whole buffer, which finds the lines' ends
    /// as it decodes them (runs of 16 bytes and more, `\r\n` line ends,
    /// an unterminated last line).
    #[test]
    fn docker_lines_read_in_one_pass_as_member_by_member(
        logs in prop::collection::vec(
            prop::collection::vec(
                prop::sample::select(vec![
                    r"\n", r"\r", r"\\", r#"\""#, r"\", "n", "r", "x", r"\u00e9",
                    r"\uD83D", r"\uDE00", r"\u12", r"\u", "é", " ", "\"",
                    "GET /index.php?p=1 HTTP/1.1", "0123456789abcdef", "Mozilla/5.0 (X11)",
                ]),
                0..10,
            ),
            1..8,
        ),
        streams in prop::collection::vec(prop::sample::select(vec!["stdout", "stderr", "console"]), 8),
        tails in prop::collection::vec(prop::sample::select(vec![
            "\"}", "\"} \t", "\"}\r", "\"},", "\"", "\\\"}", "\",\"x\":1}", "\"}\"",
        ]), 8),
        ends in prop::collection::vec(prop::sample::select(vec!["\n", "\r\n", "\n\n"]), 8),
        unterminated in any::<bool>(),
    ) {
        let mut input = Vec::new();
        for (i, log) in logs.iter().enumerate() {
            let log = log.concat();
            input.extend_from_slice(
                format!(
                    "{{\"log\":\"{log}\",\"stream\":\"{}\",\"time\":\"2026-11-24T11:17:00.1Z{}{}",
                    streams[i], tails[i], ends[i]
                )
                .as_bytes(),
            );
        }
        if unterminated {
            input.pop();
        }
        let fast = unwrap_sample(Envelope::DockerJson, &input);
        let members = unwrap_sample_for(Envelope::DockerJson, &input, Some(&keep_all()));
        prop_assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&members),
            "{}",
            String::from_utf8_lossy(&input)
        );
        let mut whole = Vec::new();
        let counts = Unwrapper::default().lines(Envelope::DockerJson, &input, true, &mut whole);
        prop_assert_eq!(
            String::from_utf8_lossy(&whole),
            String::from_utf8_lossy(&members),
            "{}",
            String::from_utf8_lossy(&input)
        );
        let physical = input.split(|&b| b == b'\n').count() as u64
            - u64::from(input.last() == Some(&b'\n'));
        prop_assert_eq!(counts.physical, physical);
    }
}

proptest! {
    /// The word-at-a-time copy stops at the first quote, backslash or line
    /// end, wherever it falls in its 16 bytes, and copies what is before.
    #[test]
    fn plain_runs_end_at_the_first_special_byte(
        s in prop::collection::vec(
            prop::sample::select(b"abcdefghijklmnopqrstuvwxyz0123 \x80\xa2\xdc\x7f\x00\"\\\n".to_vec()),
            0..100,
        ),
        from in 0usize..100,
    ) {
        let from = from.min(s.len());
        let mut out = b"before".to_vec();
        let end = copy_plain(&s, from, &mut out);
        let want = s[from..]
            .iter()
            .position(|c| matches!(c, b'"' | b'\\' | b'\n'))
            .map_or(s.len(), |p| from + p);
        prop_assert_eq!(end, want);
        prop_assert_eq!(&out[..6], b"before");
        prop_assert_eq!(&out[6..], &s[from..want]);
        prop_assert_eq!(find_special(&s[from..]), (want < s.len()).then_some(want - from));
        if let Some(c) = s.get(from..).and_then(<[u8]>::first_chunk::<16>) {
            prop_assert_eq!(first_special_words(c), first_special(c));
            prop_assert_eq!(first_special(c), (want - from).min(16));
        }
    }
}

/// A line as Docker writes it is read by the one-pass reader (not handed
/// to the member-by-member one), its escapes in either half of a word.
#[test]
fn docker_lines_take_the_fast_path() {
    let line = br#"{"log":"172.17.0.1 - - [24/Nov/2026:11:17:00 +0000] \"GET /wp-login.php?x=\\u0041 HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0 \\\"X\\\"\"\r\n","stream":"stderr","time":"2026-11-24T11:17:00.123456789Z"}"#;
    let want = "172.17.0.1 - - [24/Nov/2026:11:17:00 +0000] \"GET /wp-login.php?x=\\u0041 HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0 \\\"X\\\"\"";
    let mut out = Vec::new();
    assert_eq!(
        docker_json_fast(line, &mut out, blank_to_end),
        Some((Stream::Stderr, false, line.len()))
    );
    assert_eq!(String::from_utf8_lossy(&out), want);
    let mut buf = line.to_vec();
    buf.extend_from_slice(b"\n{\"log\":\"next");
    out.clear();
    assert_eq!(
        docker_json_fast(&buf, &mut out, line_end),
        Some((Stream::Stderr, false, line.len() + 1))
    );
    assert_eq!(String::from_utf8_lossy(&out), want);
    // Partial, and cut by a line end inside the string.
    out.clear();
    let partial = br#"{"log":"abc\\n","stream":"stdout","time":"2026-11-24T11:17:00Z"}"#;
    assert_eq!(
        docker_json_fast(partial, &mut out, blank_to_end),
        Some((Stream::Stdout, true, partial.len()))
    );
    assert_eq!(out, b"abc\\n");
    out.clear();
    assert_eq!(
        docker_json_fast(
            b"{\"log\":\"abc\ndef\",\"stream\":\"stdout\"",
            &mut out,
            line_end
        ),
        None
    );
    assert!(out.is_empty());
}
