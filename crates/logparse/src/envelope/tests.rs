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
