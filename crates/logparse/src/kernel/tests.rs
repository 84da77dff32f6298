use super::*;

fn kill(m: &[u8]) -> OomKill<'_> {
    match classify(m) {
        KernelEvent::OomKill(k) => k,
        e => panic!("{e:?}"),
    }
}

#[test]
fn memcg_killed_process_6x() {
    let k = kill(
        b"Memory cgroup out of memory: Killed process 32570 (php-fpm8.2) total-vm:2256072kB, anon-rss:1039372kB, file-rss:6240kB, shmem-rss:688kB, UID:33 pgtables:4148kB oom_score_adj:0",
    );
    assert_eq!(
        k,
        OomKill {
            pid: 32570,
            process: b"php-fpm8.2",
            total_vm_kb: Some(2256072),
            anon_rss_kb: Some(1039372),
            file_rss_kb: Some(6240),
            shmem_rss_kb: Some(688),
            uid: Some(33),
            cgroup: true,
            constraint: None,
            oom_memcg: None,
            task_memcg: None,
        }
    );
    assert!(k.is_php());
}

#[test]
fn global_and_bare_killed_process() {
    let k = kill(b"Out of memory: Killed process 811 (mysqld) total-vm:1723008kB, anon-rss:402416kB, file-rss:0kB, shmem-rss:0kB, UID:110 pgtables:1128kB oom_score_adj:0");
    assert_eq!(
        (k.pid, k.process, k.cgroup, k.anon_rss_kb, k.uid),
        (811, &b"mysqld"[..], false, Some(402416), Some(110))
    );
    assert!(!k.is_php());
    let k = kill(b"Killed process 19667 (evil-program2) total-vm:1460016kB, anon-rss:1414008kB, file-rss:4kB");
    assert_eq!(
        k,
        OomKill {
            pid: 19667,
            process: b"evil-program2",
            total_vm_kb: Some(1460016),
            anon_rss_kb: Some(1414008),
            file_rss_kb: Some(4),
            ..OomKill::default()
        }
    );
    // RHEL 6 wording, with the uid before the name.
    let k = kill(
        b"Killed process 2592, UID 48, (httpd) total-vm:3242244kB, anon-rss:1000kB, file-rss:8kB",
    );
    assert_eq!((k.pid, k.uid, k.process), (2592, Some(48), &b"httpd"[..]));
    // oom_kill_allocating_task.
    let k = kill(b"Out of memory (oom_kill_allocating_task): Killed process 77 (php) total-vm:10kB, anon-rss:5kB, file-rss:0kB");
    assert_eq!((k.pid, k.process), (77, &b"php"[..]));
}

#[test]
fn odd_process_names() {
    for (name, want) in [
        (&b"Plex Media Server"[..], &b"Plex Media Server"[..]),
        (b"[", b"["),
        (b"()", b"()"),
        (b"\"with quotes\"", b"\"with quotes\""),
        (b"a) total-vm", b"a) total-vm"),
    ] {
        let mut m = b"Killed process 1234 (".to_vec();
        m.extend_from_slice(name);
        m.extend_from_slice(b") total-vm:1460016kB, anon-rss:1414008kB, file-rss:4kB");
        let k = kill(&m);
        assert_eq!((k.pid, k.process), (1234, want));
        assert_eq!(k.anon_rss_kb, Some(1414008));
    }
    // No `total-vm:`: the name runs to the last `)`.
    let k = kill(b"Killed process 5 (a (b))");
    assert_eq!((k.pid, k.process, k.total_vm_kb), (5, &b"a (b)"[..], None));
}

#[test]
fn oom_kill_detail_line() {
    let e = classify(b"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/system.slice/php8.2-fpm.service,task_memcg=/system.slice/php8.2-fpm.service,task=php-fpm8.2,pid=32570,uid=33");
    assert_eq!(
        e,
        KernelEvent::OomDetail(OomDetail {
            constraint: Some(b"CONSTRAINT_MEMCG"),
            oom_memcg: Some(b"/system.slice/php8.2-fpm.service"),
            task_memcg: Some(b"/system.slice/php8.2-fpm.service"),
            task: Some(b"php-fpm8.2"),
            pid: Some(32570),
            uid: Some(33),
        })
    );
    // Global OOM: `global_oom` and no oom_memcg; a task name with a comma.
    let e = classify(b"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/user.slice,task=a,b,pid=9,uid=0");
    assert_eq!(
        e,
        KernelEvent::OomDetail(OomDetail {
            constraint: Some(b"CONSTRAINT_NONE"),
            oom_memcg: None,
            task_memcg: Some(b"/user.slice"),
            task: Some(b"a,b"),
            pid: Some(9),
            uid: Some(0),
        })
    );
}

#[test]
fn add_detail_only_on_same_pid() {
    let KernelEvent::OomDetail(d) = classify(
        b"oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/a,task_memcg=/a/b,task=x,pid=7,uid=1",
    ) else {
        panic!()
    };
    let mut k = kill(b"Killed process 8 (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB");
    assert!(!k.add_detail(&d));
    assert_eq!(k.constraint, None);
    let mut k = kill(b"Killed process 7 (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB");
    assert!(k.add_detail(&d));
    assert_eq!(
        (k.constraint, k.oom_memcg, k.task_memcg, k.uid),
        (
            Some(&b"CONSTRAINT_MEMCG"[..]),
            Some(&b"/a"[..]),
            Some(&b"/a/b"[..]),
            Some(1)
        )
    );
}

#[test]
fn older_kill_process_and_task_in() {
    assert_eq!(
        classify(b"Memory cgroup out of memory: Kill process 1012 (heapster) score 1035 or sacrifice child"),
        KernelEvent::OomSelect {
            pid: 1012,
            process: b"heapster",
            score: Some(1035)
        }
    );
    assert_eq!(
        classify(b"Out of memory: Kill process 3 (a b) score 0 or sacrifice child"),
        KernelEvent::OomSelect {
            pid: 3,
            process: b"a b",
            score: Some(0)
        }
    );
    assert_eq!(
        classify(b"Task in /mem2 killed as a result of limit of /mem3"),
        KernelEvent::OomCgroup {
            task_memcg: b"/mem2",
            oom_memcg: b"/mem3"
        }
    );
}

#[test]
fn invoked_oom_killer() {
    assert_eq!(
        classify(b"php-fpm8.2 invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0"),
        KernelEvent::OomInvoked {
            process: b"php-fpm8.2"
        }
    );
    assert_eq!(
        classify(b"ruby invoked oom-killer: gfp_mask=0x201da, order=0, oom_score_adj=0"),
        KernelEvent::OomInvoked { process: b"ruby" }
    );
}

#[test]
fn segfault_lines() {
    assert_eq!(
        classify(b"php-fpm8.2[6091]: segfault at 7ffdb37d8fde ip 000055803ad7bbb9 sp 00007ffdb37d8f90 error 6 in php-fpm8.2[2f9bb9,55803ab5f000+316000] likely on CPU 0 (core 0, socket 0)"),
        KernelEvent::Segfault(Segfault {
            process: b"php-fpm8.2",
            pid: 6091,
            addr: 0x7ffdb37d8fde,
            ip: Some(0x55803ad7bbb9),
            sp: Some(0x7ffdb37d8f90),
            error: Some(6),
            object: Some(b"php-fpm8.2"),
        })
    );
    assert_eq!(
        classify(b"php-fpm[1234]: segfault at 0 ip 00007f0c2a1b2c3d sp 00007ffc1a2b3c40 error 14 in opcache.so[7f0c2a100000+1c0000]"),
        KernelEvent::Segfault(Segfault {
            process: b"php-fpm",
            pid: 1234,
            addr: 0,
            ip: Some(0x7f0c2a1b2c3d),
            sp: Some(0x7ffc1a2b3c40),
            error: Some(0x14),
            object: Some(b"opcache.so"),
        })
    );
    // A name with brackets and spaces; no `in` object.
    assert_eq!(
        classify(b"my [app] x[77]: segfault at 10 ip 0000000000000001 sp 0000000000000002 error 4"),
        KernelEvent::Segfault(Segfault {
            process: b"my [app] x",
            pid: 77,
            addr: 0x10,
            ip: Some(1),
            sp: Some(2),
            error: Some(4),
            object: None,
        })
    );
    assert_eq!(classify(b"x[abc]: segfault at 10 ip 1"), KernelEvent::Other);
}

#[test]
fn other_lines() {
    for m in [
        &b"Call Trace:"[..],
        b" <TASK>",
        b" oom_kill_process.cold+0x8/0x8a",
        b"Mem-Info:",
        b"[  31544]     0 31544    50415     1583     1020      563         0    94208        0             0 php-fpm8.2",
        b"oom_reaper: reaped process 32570 (php-fpm8.2), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
        b"Killed process x (y)",
        b"Something: Killed process 1 (a) total-vm:1kB",
        b"",
    ] {
        assert_eq!(classify(m), KernelEvent::Other, "{}", String::from_utf8_lossy(m));
    }
    // An uptime stamp inside the message is skipped.
    assert_eq!(
        classify(b"[62279.421192] Killed process 1234 (foo) total-vm:1460016kB, anon-rss:1414008kB, file-rss:4kB"),
        KernelEvent::OomKill(OomKill {
            pid: 1234,
            process: b"foo",
            total_vm_kb: Some(1460016),
            anon_rss_kb: Some(1414008),
            file_rss_kb: Some(4),
            ..OomKill::default()
        })
    );
}

fn parse(p: &mut KernelParser, line: &[u8]) -> Result<KernelRecord<'static>, SkipReason> {
    let line: &'static [u8] = Box::leak(line.to_vec().into_boxed_slice());
    p.parse(line)
}

#[test]
fn raw_dmesg_untimed_or_boot_time() {
    let line = b"[11343.775420] php-fpm8.2[6091]: segfault at 7ffdb37d8fde ip 000055803ad7bbb9 sp 00007ffdb37d8f90 error 6 in php-fpm8.2[2f9bb9,55803ab5f000+316000]";
    let r = parse(&mut KernelParser::new(Zone::UTC), line).unwrap();
    assert_eq!(r.time, None);
    assert_eq!(r.uptime_us, Some(11_343_775_420));
    assert_eq!((r.host, r.ident), (None, None));
    assert!(r.message.starts_with(b"php-fpm8.2[6091]: segfault"));
    assert!(matches!(r.event, KernelEvent::Segfault(s) if s.pid == 6091));
    // Boot time 2026-11-24T08:11:14Z + 11343.775420 s = 11:20:17.775420.
    let boot = 1_795_507_874;
    let mut p = KernelParser::new(Zone::Fixed(3600)).with_boot_time(boot);
    let r = parse(&mut p, line).unwrap();
    let t = r.time.unwrap();
    assert_eq!(t.unix_us, 1_795_519_217_775_420);
    assert_eq!(t.to_rfc3339(), "2026-11-24T12:20:17.775420+01:00");
    // Padded stamp and `dmesg -r` priority.
    let r = parse(
        &mut KernelParser::new(Zone::UTC),
        b"<4>[    2.5] Call Trace:",
    )
    .unwrap();
    assert_eq!(
        (r.uptime_us, r.message),
        (Some(2_500_000), &b"Call Trace:"[..])
    );
}

#[test]
fn dmesg_t_in_zones() {
    let line = b"[Tue Nov 24 11:18:02 2026] php-fpm8.2 invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0";
    let r = parse(&mut KernelParser::new(Zone::UTC), line).unwrap();
    assert_eq!(r.time.unwrap().to_rfc3339(), "2026-11-24T11:18:02+00:00");
    assert_eq!(
        r.event,
        KernelEvent::OomInvoked {
            process: b"php-fpm8.2"
        }
    );
    let r = parse(&mut KernelParser::new(Zone::Fixed(-5 * 3600)), line).unwrap();
    assert_eq!(r.time.unwrap().to_rfc3339(), "2026-11-24T11:18:02-05:00");
    assert_eq!(r.time.unwrap().unix_secs(), 1_795_537_082);
    // Berlin in November is CET (+01:00); in July CEST (+02:00).
    let berlin: Zone = "Europe/Berlin".parse().unwrap();
    let r = parse(&mut KernelParser::new(berlin), line).unwrap();
    assert_eq!(r.time.unwrap().to_rfc3339(), "2026-11-24T11:18:02+01:00");
    let r = parse(
        &mut KernelParser::new(berlin),
        b"[Thu Jul  2 09:05:00 2026] x",
    )
    .unwrap();
    assert_eq!(r.time.unwrap().to_rfc3339(), "2026-07-02T09:05:00+02:00");
    assert_eq!(r.message, b"x");
    // Bad dates.
    assert_eq!(
        parse(
            &mut KernelParser::new(Zone::UTC),
            b"[Tue Feb 30 11:18:02 2026] x"
        ),
        Err(SkipReason::BadTimestamp)
    );
    assert_eq!(
        parse(
            &mut KernelParser::new(Zone::UTC),
            b"[Tue Nov 24 11:18:02] x"
        ),
        Err(SkipReason::BadTimestamp)
    );
}

#[test]
fn syslog_and_journal_short() {
    let line = b"Nov 24 11:18:02 vm kernel: Memory cgroup out of memory: Killed process 32570 (php-fpm8.2) total-vm:2256072kB, anon-rss:1039372kB, file-rss:6240kB, shmem-rss:688kB, UID:33 pgtables:4148kB oom_score_adj:0";
    // Without a year: untimed.
    let r = parse(&mut KernelParser::new(Zone::UTC), line).unwrap();
    assert_eq!(r.time, None);
    assert_eq!((r.host, r.ident), (Some(&b"vm"[..]), Some(&b"kernel"[..])));
    assert!(matches!(r.event, KernelEvent::OomKill(k) if k.pid == 32570));
    let mut p = KernelParser::new("-03:00".parse().unwrap()).with_year(2026);
    let r = parse(&mut p, line).unwrap();
    assert_eq!(r.time.unwrap().to_rfc3339(), "2026-11-24T11:18:02-03:00");
    // short-precise, padded day.
    let r = parse(&mut p, b"Nov  4 11:18:02.533281 vm kernel: Call Trace:").unwrap();
    assert_eq!(
        r.time.unwrap().to_rfc3339(),
        "2026-11-04T11:18:02.533281-03:00"
    );
    // Another identifier: parsed, not classified.
    let r = parse(
        &mut p,
        b"Nov 24 11:16:50 vm systemd-journald[24423]: Received SIGTERM from PID 31494 (bash).",
    )
    .unwrap();
    assert_eq!(r.ident, Some(&b"systemd-journald"[..]));
    assert!(!r.is_kernel());
    assert_eq!(r.event, KernelEvent::Other);
    // rsyslog kern.log with the kernel's own stamp.
    let r = parse(&mut p, b"Jan 21 22:01:49 localhost kernel: [62279.421192] Killed process 1234 (foo) total-vm:1460016kB, anon-rss:1414008kB, file-rss:4kB").unwrap();
    assert_eq!(r.uptime_us, Some(62_279_421_192));
    assert!(r.message.starts_with(b"Killed process"));
    assert!(matches!(r.event, KernelEvent::OomKill(k) if k.process == b"foo"));
    // short-iso and dmesg --time-format iso.
    let r = parse(&mut p, b"2026-11-24T11:20:18+0000 vm kernel: php-fpm8.2[6091]: segfault at 7ffdb37d8fde ip 000055803ad7bbb9 sp 00007ffdb37d8f90 error 6 in php-fpm8.2[2f9bb9,55803ab5f000+316000]").unwrap();
    assert_eq!(r.time.unwrap().to_rfc3339(), "2026-11-24T11:20:18+00:00");
    assert!(matches!(r.event, KernelEvent::Segfault(s) if s.pid == 6091));
    let r = parse(&mut p, b"2026-11-24T11:18:02,086696+00:00 Mem-Info:").unwrap();
    assert_eq!(r.time.unwrap().unix_us, 1_795_519_082_086_696);
    assert_eq!((r.host, r.message), (None, &b"Mem-Info:"[..]));
}

#[test]
fn rejects() {
    let mut p = KernelParser::new(Zone::UTC).with_year(2026);
    for (line, why) in [
        (&b"hello world"[..], SkipReason::Unrecognized),
        (b"Call Trace:", SkipReason::Unrecognized),
        (b"[11208.0866", SkipReason::Truncated),
        (b"[abc] x", SkipReason::BadTimestamp),
        (b"[-1] x", SkipReason::Unrecognized),
        (b"Nov 31 11:18:02 vm kernel: x", SkipReason::BadTimestamp),
        (b"Nov 24 11:18:02 vm", SkipReason::Truncated),
        (b"Nov 24 11:18:02 vm two words: x", SkipReason::Unrecognized),
        (b"2026-11-24T11:18:02 x", SkipReason::BadTimestamp),
    ] {
        assert_eq!(
            parse(&mut p, line),
            Err(why),
            "{}",
            String::from_utf8_lossy(line)
        );
    }
}

#[test]
fn oom_kill_pair_is_one_record() {
    let p = KernelParser::new(Zone::UTC);
    let a = b"[11208.086683] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/system.slice/php8.2-fpm.service,task_memcg=/system.slice/php8.2-fpm.service,task=php-fpm8.2,pid=32570,uid=33";
    let b = b"[11208.086696] Memory cgroup out of memory: Killed process 32570 (php-fpm8.2) total-vm:2256072kB, anon-rss:1039372kB, file-rss:6240kB, shmem-rss:688kB, UID:33 pgtables:4148kB oom_score_adj:0";
    assert!(p.is_record_start(a));
    assert!(!p.is_record_start(b));
    assert!(p.continues(a, b));
    assert!(!p.continues(b"[1.0] Call Trace:", b));
    let mut rec = a.to_vec();
    rec.extend_from_slice(b"\r\n");
    rec.extend_from_slice(b);
    let r = parse(&mut p.clone(), &rec).unwrap();
    assert_eq!(r.uptime_us, Some(11_208_086_696));
    assert_eq!(
        r.event,
        KernelEvent::OomKill(OomKill {
            pid: 32570,
            process: b"php-fpm8.2",
            total_vm_kb: Some(2256072),
            anon_rss_kb: Some(1039372),
            file_rss_kb: Some(6240),
            shmem_rss_kb: Some(688),
            uid: Some(33),
            cgroup: true,
            constraint: Some(b"CONSTRAINT_MEMCG"),
            oom_memcg: Some(b"/system.slice/php8.2-fpm.service"),
            task_memcg: Some(b"/system.slice/php8.2-fpm.service"),
        })
    );
    // A broken second line leaves the detail record.
    let r = parse(
        &mut p.clone(),
        b"[1.0] oom-kill:task=x,pid=1\nKilled process zz",
    )
    .unwrap();
    assert!(matches!(r.event, KernelEvent::OomDetail(_)));
}

#[test]
fn summary_counts_and_merge() {
    let mut s = KernelSummary::default();
    let k = kill(b"Killed process 1 (php-fpm8.2) total-vm:1kB, anon-rss:1kB, file-rss:0kB");
    s.add_event(&KernelEvent::OomKill(k), None);
    s.add_event(
        &KernelEvent::OomKill(OomKill {
            process: b"mysqld",
            ..k
        }),
        Some(Timestamp::from_unix(10, 0)),
    );
    s.add_event(&KernelEvent::Other, Some(Timestamp::from_unix(5, 0)));
    s.add_event(&classify(b"a[1]: segfault at 0 ip 1"), None);
    let mut t = KernelSummary::default();
    t.merge(&s);
    t.merge(&s);
    assert_eq!(
        (
            t.records,
            t.oom_kills,
            t.oom_kills_php_fpm,
            t.segfaults,
            t.segfaults_php_fpm,
            t.untimed
        ),
        (8, 4, 2, 2, 0, 4)
    );
    assert_eq!(t.range.first.unwrap().unix_secs(), 5);
    assert_eq!(t.range.last.unwrap().unix_secs(), 10);
}

#[test]
fn kern_log_rolls_over_new_years_inside_a_file_and_across_chunks() {
    // Fifteen months of kern.log, a line a day, December to January
    // twice (about 45 KB: several chunks). Every chunk size gives the same
    // instants, always increasing.
    let mut text = Vec::new();
    let months = [
        "Dec", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        "Jan", "Feb",
    ];
    for m in months {
        for d in 1..=28 {
            text.extend_from_slice(
                format!("{m} {d:2} 10:00:00 web kernel: php-fpm8.2[7]: segfault at 0 ip 1 sp 2 error 4 in x.so[1+2]\n")
                    .as_bytes(),
            );
        }
    }
    let parser = KernelParser::new(Zone::UTC).with_year(2024);
    let sequential = crate::ScanOptions {
        parallel: false,
        chunk_size: 1 << 20,
        ..crate::ScanOptions::default()
    };
    let (whole, _) =
        crate::scan::scan_slice(&text, 0, &parser, &sequential, &KernelSummary::default);
    assert_eq!(
        whole.range.first.unwrap().to_rfc3339(),
        "2024-12-01T10:00:00+00:00"
    );
    assert_eq!(
        whole.range.last.unwrap().to_rfc3339(),
        "2026-02-28T10:00:00+00:00"
    );
    let collect = crate::event::Collect {
        events: true,
        ..Default::default()
    };
    for chunk in [4096, 5000, 9000, 1 << 20] {
        let opts = crate::ScanOptions {
            chunk_size: chunk,
            ..crate::ScanOptions::default()
        };
        let (summary, _) =
            crate::scan::scan_slice(&text, 0, &parser, &opts, &KernelSummary::default);
        assert_eq!(summary.range, whole.range, "chunk {chunk}");
        // The collected events move with their chunk too.
        let (c, _) = crate::scan::scan_slice(&text, 0, &parser, &opts, &|| {
            crate::summary::Collecting::new(KernelSummary::default(), collect)
        });
        let times: Vec<i64> = c
            .events
            .iter()
            .filter_map(|e| e.time)
            .map(|t| t.unix_secs())
            .collect();
        assert_eq!(times.len(), 15 * 28, "chunk {chunk}");
        assert!(times.windows(2).all(|w| w[0] < w[1]), "chunk {chunk}");
    }
}

#[test]
fn the_oom_report_gives_the_memory_a_cgroup_limit_before_the_ram() {
    let mut s = KernelSummary::default();
    s.note_memory(b"1048445 pages RAM");
    assert_eq!(
        (s.memory_bytes, s.memory_is_cgroup),
        (Some(1048445 * 4096), false)
    );
    s.note_memory(b"memory: usage 1048576kB, limit 1048576kB, failcnt 6297");
    assert_eq!((s.memory_bytes, s.memory_is_cgroup), (Some(1 << 30), true));
    // Unlimited counters (swap, kmem) and other lines say nothing.
    s.note_memory(b"memory+swap: usage 1048576kB, limit 9007199254740988kB, failcnt 0");
    s.note_memory(b"memory: usage 5kB, limit 9007199254740988kB, failcnt 0");
    s.note_memory(b"2000000 pages RAM");
    s.note_memory(b"x pages RAM");
    assert_eq!(s.memory_bytes, Some(1 << 30));
    // The real capture: a php-fpm service's 1 GiB MemoryMax, read through
    // the parser whatever the chunking.
    let text = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/kernel/lab/phaseA/dmesg.txt"
    ))
    .unwrap();
    let parser = KernelParser::new(Zone::UTC);
    for chunk in [512, 1 << 20] {
        let opts = crate::ScanOptions {
            chunk_size: chunk,
            ..crate::ScanOptions::default()
        };
        let (summary, _) =
            crate::scan::scan_slice(&text, 0, &parser, &opts, &KernelSummary::default);
        assert_eq!(summary.memory_bytes, Some(1 << 30), "chunk {chunk}");
        assert!(summary.memory_is_cgroup);
    }
}
