//! The HTTP server as a process (`entente run`) against misbehaving clients: methods
//! other than GET and HEAD, unknown paths, oversized headers, slowloris and
//! thousands of idle connections.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::KillOnDrop as Daemon;
use crate::common::{
    entente_command, http_get, http_get_within, rss, FeedServer, Route, TestConfig,
};

/// A daemon over one small feed, serving on a free port; (daemon, address, config).
fn start_daemon() -> (Daemon, String, TestConfig, FeedServer) {
    start_daemon_under_ulimit(None)
}

/// [`start_daemon`], the daemon started by a shell that first runs `ulimit` with
/// `limit` (`-Sn 1024`: a soft limit of 1024 open files; `-n 1024`: soft and hard).
fn start_daemon_under_ulimit(limit: Option<&str>) -> (Daemon, String, TestConfig, FeedServer) {
    let server = FeedServer::start();
    server.route(
        "/f.rss",
        Route::rss(rss(&[(
            "a",
            "Tokayev and Macron sign a strategic partnership in Astana",
            "The presidents of Kazakhstan and France met for talks.",
            "Mon, 02 Mar 2026 10:00:00 +0000",
        )])),
    );
    let config = TestConfig::new(&[("f", server.url("/f.rss"))], "");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut command = match limit {
        None => entente_command(&config.path, &["run", "--listen", &addr]),
        Some(limit) => {
            let mut shell = std::process::Command::new("sh");
            shell
                .arg("-c")
                .arg(format!("ulimit {limit} && exec \"$0\" \"$@\""))
                .arg(env!("CARGO_BIN_EXE_entente"))
                .arg("--config")
                .arg(&config.path)
                .args(["run", "--listen", &addr])
                .env("RUST_LOG", "warn");
            shell
        }
    };
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let daemon = Daemon(child);
    let started = Instant::now();
    let fetched = |addr: &str| {
        http_get(addr, "/feeds/all.rss", &[]).is_ok_and(|(status, _, body)| {
            status == 200 && String::from_utf8_lossy(&body).contains("Tokayev")
        })
    };
    while !fetched(&addr) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the daemon did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (daemon, addr, config, server)
}

/// Sends raw bytes and reads the whole answer (the server closes or we time out).
fn raw_request(addr: &str, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn only_get_and_head_unknown_paths_not_echoed_headers_bounded() {
    let (_daemon, addr, _config, _feeds) = start_daemon();
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "TRACE"] {
        let answer = raw_request(
            &addr,
            format!("{method} /feeds/all.rss HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        assert!(answer.starts_with("HTTP/1.1 405"), "{method}: {answer}");
    }
    let head = raw_request(
        &addr,
        b"HEAD /feeds/all.rss HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    for path in [
        "/%3Cscript%3Ealert(1)%3C/script%3E",
        "/feeds/%3Cscript%3E.rss",
        "/topics/../../etc/passwd",
    ] {
        let (status, headers, body) = http_get(&addr, path, &[]).unwrap();
        assert_eq!(status, 404, "{path}");
        let body = String::from_utf8_lossy(&body);
        assert!(
            !body.contains("script") && !body.contains("passwd"),
            "{path}: {body}"
        );
        assert_eq!(
            headers.get("x-content-type-options").map(String::as_str),
            Some("nosniff")
        );
    }
    let (_, headers, _) = http_get(&addr, "/feeds/all.rss", &[]).unwrap();
    assert_eq!(
        headers.get("x-content-type-options").map(String::as_str),
        Some("nosniff")
    );

    let huge = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let answer = raw_request(&addr, huge.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.80}");
}

#[test]
fn idle_and_slow_connections_neither_block_others_nor_stay_open() {
    let (_daemon, addr, _config, _feeds) = start_daemon();
    // Thousands of connections that never send a byte, and a few that send the
    // headers a byte at a time (slowloris).
    let mut idle: Vec<TcpStream> = (0..3000)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    let mut slow: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nX-A: ").unwrap();
            s
        })
        .collect();
    for _ in 0..3 {
        for s in &mut slow {
            let _ = s.write_all(b"a");
        }
        let (status, _, _) =
            http_get(&addr, "/healthz", &[]).expect("served beside the idle crowd");
        assert_eq!(status, 200);
        let (status, _, body) = http_get(&addr, "/feeds/all.rss", &[]).unwrap();
        assert_eq!(status, 200);
        assert!(String::from_utf8_lossy(&body).contains("Tokayev"));
        std::thread::sleep(Duration::from_secs(1));
    }
    // The server closes them once the header-read timeout passes: a read sees the end
    // (or a reset) instead of waiting for ever.
    let deadline = Duration::from_secs(40);
    for stream in idle.iter_mut().step_by(100).chain(slow.iter_mut()) {
        stream.set_read_timeout(Some(deadline)).unwrap();
        let mut buf = [0u8; 512];
        let started = Instant::now();
        let closed = loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) if started.elapsed() < deadline => break true,
                Ok(0) | Err(_) => break false,
                // A 408 answer before the close is fine.
                Ok(_) => continue,
            }
        };
        assert!(
            closed,
            "an idle connection was still open after {deadline:?}"
        );
    }
}

/// Shells and systemd units start a process with a soft limit of 1024 open files,
/// which 768 idle sockets would fill (the daemon keeps 256 back): the daemon raises
/// its own soft limit, so that thousands of idle connections leave room for others.
#[test]
fn thousands_of_idle_connections_under_a_1024_file_limit_do_not_stop_others() {
    let (daemon, addr, _config, _feeds) = start_daemon_under_ulimit(Some("-Sn 1024"));
    let soft = open_file_limit(daemon.0.id());
    assert!(soft > 1024, "the soft limit stayed {soft}");
    let idle: Vec<TcpStream> = (0..3000)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    // Time for the daemon to accept them all before the probe.
    std::thread::sleep(Duration::from_millis(500));
    let (status, _, _) = http_get(&addr, "/healthz", &[]).expect("served beside 3000 idle");
    assert_eq!(status, 200);
    let (status, _, body) = http_get(&addr, "/feeds/all.rss", &[]).unwrap();
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("Tokayev"));
    drop(idle);
}

/// The soft limit on open files of process `pid`, from `/proc/PID/limits`.
fn open_file_limit(pid: u32) -> u64 {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse().ok())
        .unwrap()
}

/// Whether the server has closed `stream` (a read sees the end or a reset) rather
/// than keeping it open with nothing to say, asked without waiting.
fn closed_by_server(mut stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            // A 408 before the close would be data; none is sent on shedding.
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

/// A flood of idle connections larger than the daemon can hold: with the hard limit
/// on open files at 1024 too, the daemon cannot raise it and serves 768 connections
/// at once. Each new client takes the place of the connection idle longest, so that
/// `/healthz` is served at once, not turned away until the header-read timeout (10 s)
/// clears the flood: the oldest of the flood are closed by the server while the
/// newest are still open (which that timeout would have closed first-come too, and
/// which, without shedding, would have been closed on arrival).
#[test]
fn an_idle_flood_larger_than_the_file_limit_gives_way_to_new_clients() {
    let (daemon, addr, _config, _feeds) = start_daemon_under_ulimit(Some("-n 1024"));
    assert_eq!(open_file_limit(daemon.0.id()), 1024);
    let flood: Vec<TcpStream> = (0..3000)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    // Time for the daemon to accept them all before the probe.
    std::thread::sleep(Duration::from_millis(500));
    let (status, _, _) = http_get(&addr, "/healthz", &[]).expect("served beside the flood");
    assert_eq!(status, 200);
    let (status, _, body) = http_get(&addr, "/feeds/all.rss", &[]).unwrap();
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("Tokayev"));
    let newest_open = flood[2990..]
        .iter()
        .filter(|s| !closed_by_server(s))
        .count();
    assert_eq!(newest_open, 10, "the newest of the flood were closed");
    let oldest_closed = flood[..10].iter().filter(|s| closed_by_server(s)).count();
    assert_eq!(oldest_closed, 10, "the oldest of the flood were kept");
}

/// A feed of `count` relevant items, each a different story with about `bytes` of
/// HTML content: words in an order no compressor takes in at a glance.
fn large_feed(count: usize, bytes: usize) -> String {
    const WORDS: &[&str] = &[
        "Astana",
        "Paris",
        "uranium",
        "delegation",
        "ministry",
        "agreement",
        "energy",
        "the",
        "of",
        "and",
        "a",
        "signed",
        "talks",
        "Tokayev",
        "Macron",
        "trade",
        "investment",
        "steppe",
        "Orano",
        "TotalEnergies",
        "Almaty",
        "students",
        "culture",
        "railway",
        "hydrogen",
        "wind",
        "visas",
        "embassy",
        "forum",
        "bank",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next_word = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        WORDS[(state % WORDS.len() as u64) as usize]
    };
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel><title>Large</title><link>https://news.example.org/</link><description>t</description>\n",
    );
    for i in 0..count {
        let mut content = String::with_capacity(bytes + 64);
        while content.len() < bytes {
            content.push_str("<p>");
            for _ in 0..40 {
                content.push_str(next_word());
                content.push(' ');
            }
            content.push_str(&format!("{}.</p>", content.len() % 9973));
        }
        xml.push_str(&format!(
            "<item><guid isPermaLink=\"false\">large-{i}</guid><title>Tokayev and Macron sign agreement {i} on uranium deliveries in Astana</title><link>https://news.example.org/large-{i}</link><description>The presidents of Kazakhstan and France met for talks on energy.</description><content:encoded><![CDATA[{content}]]></content:encoded><pubDate>Mon, 02 Mar 2026 10:00:00 +0000</pubDate></item>\n"
        ));
    }
    xml.push_str("</channel></rss>\n");
    xml
}

/// `entente run` over `config` with one async worker (`TOKIO_WORKER_THREADS=1`, as on
/// a one-core machine) and its debug log, line by line; once `/healthz` answers.
fn start_daemon_on_one_worker(
    config: &TestConfig,
) -> (Daemon, String, std::sync::mpsc::Receiver<String>) {
    let addr = format!("127.0.0.1:{}", crate::common::free_port());
    let mut child = entente_command(&config.path, &["run", "--listen", &addr])
        .env("RUST_LOG", "entente=debug")
        .env("TOKIO_WORKER_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let daemon = Daemon(child);
    let (lines, log) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let ready = crate::common::wait_for(Duration::from_secs(60), || {
        http_get(&addr, "/healthz", &[])
            .ok()
            .filter(|(status, _, _)| *status == 200)
    });
    assert!(ready.is_some(), "the daemon did not start");
    (daemon, addr, log)
}

/// A config over one feed of 30 relevant items of 400 KB of HTML each, fetched once
/// (the daemon's own schedule does not come round in the test); (config, its server).
fn large_feed_fetched() -> (TestConfig, FeedServer) {
    let server = FeedServer::start();
    server.route("/large.rss", Route::rss(large_feed(30, 400_000)));
    let config = TestConfig::new(
        &[("large", server.url("/large.rss"))],
        "schedule = \"0 0 1 1 *\"",
    );
    let fetched = config.entente(&["fetch"]);
    assert!(
        fetched.status.success(),
        "{}",
        String::from_utf8_lossy(&fetched.stderr)
    );
    (config, server)
}

/// When a daemon's log line was written: its first field, an RFC 3339 time.
fn logged_at(line: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let stamp = line.split_whitespace().next()?;
    Some(chrono::DateTime::parse_from_rfc3339(stamp).ok()?.to_utc())
}

/// The first request after a change renders the file, which for a feed of large
/// items takes a while: on a publishing thread, so that the daemon goes on serving.
/// With one async worker, rendering on the runtime would hold every other request
/// until it ended; here `/healthz` must be answered before the daemon logs that the
/// rendering ended (the log's own clock: ordering, not a time bound).
#[test]
fn healthz_is_served_while_a_large_feed_is_rendered() {
    let (config, _feeds) = large_feed_fetched();
    let (_daemon, addr, log) = start_daemon_on_one_worker(&config);
    let patience = Duration::from_secs(300);
    let feed_addr = addr.clone();
    let feed =
        std::thread::spawn(move || http_get_within(&feed_addr, "/feeds/all.rss", &[], patience));
    let is_this_feed = |line: &str| line.contains("feeds/all.rss");
    let deadline = Instant::now() + patience;
    let started = loop {
        match log.recv_timeout(Duration::from_millis(200)) {
            Ok(line) if line.contains("Rendering a published file") && is_this_feed(&line) => {
                break true
            }
            Ok(_) => continue,
            Err(_) if !feed.is_finished() && Instant::now() < deadline => continue,
            Err(_) => break false,
        }
    };
    assert!(started, "no rendering was logged before the answer");

    let (status, _, health) = http_get(&addr, "/healthz", &[]).expect("/healthz answers");
    let answered = chrono::Utc::now();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&health));

    let (status, _, body) = feed.join().unwrap().unwrap();
    assert_eq!(status, 200);
    assert!(
        body.len() > 8_000_000,
        "the feed should be large: {} bytes",
        body.len()
    );
    let rendered = log
        .recv_timeout(Duration::from_secs(5))
        .into_iter()
        .chain(log.try_iter())
        .find(|line| line.contains("Rendered a published file") && is_this_feed(line))
        .expect("the end of the rendering is logged");
    let ended = logged_at(&rendered).expect("a log line starts with its time");
    assert!(
        ended > answered,
        "/healthz was answered only after the rendering ended ({rendered}): \
         the rendering held the server"
    );
    eprintln!("/healthz answered at {answered}, beside: {rendered}");
}

/// The first request for a file's brotli (or gzip) variant compresses it, which for a
/// large feed takes seconds: on a blocking thread, so that the daemon goes on serving.
/// With one async worker (`TOKIO_WORKER_THREADS=1`), compression on the runtime would
/// hold every other request until it ended; here `/healthz` and a cached file must
/// be answered while the brotli answer is still being made.
#[test]
fn healthz_and_other_files_are_served_while_a_large_feed_is_compressed() {
    let (config, _feeds) = large_feed_fetched();
    let (_daemon, addr, log) = start_daemon_on_one_worker(&config);

    // Rendered (and cached) first, so that what follows is the compression alone.
    let patience = Duration::from_secs(300);
    let (status, plain_headers, plain) =
        http_get_within(&addr, "/feeds/all.rss", &[], patience).unwrap();
    assert_eq!(status, 200);
    assert!(
        plain.len() > 8_000_000,
        "the feed should be large: {} bytes",
        plain.len()
    );
    let (_, _, opml) = http_get_within(&addr, "/feeds.opml", &[], patience).unwrap();

    let (answered, brotli_done) = std::sync::mpsc::channel();
    let brotli_addr = addr.clone();
    let brotli = std::thread::spawn(move || {
        let answer = http_get_within(
            &brotli_addr,
            "/feeds/all.rss",
            &[("Accept-Encoding", "br")],
            patience,
        );
        let _ = answered.send(());
        answer
    });
    // The daemon says so on the thread that compresses, just before it starts.
    let deadline = Instant::now() + patience;
    let started = loop {
        match log.recv_timeout(Duration::from_millis(200)) {
            Ok(line) if line.contains("Compressing a published file") && line.contains("br") => {
                break true
            }
            Ok(_) => continue,
            Err(_) if !brotli.is_finished() && Instant::now() < deadline => continue,
            Err(_) => break false,
        }
    };
    assert!(started, "no compression was logged before the answer");

    let asked = Instant::now();
    let (status, _, health) = http_get(&addr, "/healthz", &[]).expect("/healthz answers");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&health));
    let (status, _, opml_again) = http_get(&addr, "/feeds.opml", &[]).expect("a cached file");
    assert_eq!((status, &opml_again), (200, &opml));
    let waited = asked.elapsed();
    assert!(
        brotli_done.try_recv().is_err(),
        "the brotli answer came before /healthz's: the compression held the server"
    );
    assert!(waited < Duration::from_secs(10), "{waited:?}");

    let (status, headers, compressed) = brotli.join().unwrap().unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        headers.get("content-encoding").map(String::as_str),
        Some("br")
    );
    let etag = plain_headers.get("etag").unwrap();
    assert_eq!(
        headers.get("etag"),
        Some(&format!("{}-br\"", etag.trim_end_matches('"')))
    );
    let mut decompressed = Vec::new();
    brotli::BrotliDecompress(&mut &compressed[..], &mut decompressed).unwrap();
    assert!(decompressed == plain, "the brotli variant is the same feed");
    // For whoever reads the output: how long the compression took, against `waited`.
    let compressed_line = log
        .recv_timeout(Duration::from_secs(5))
        .into_iter()
        .chain(log.try_iter())
        .find(|line| line.contains("Compressed a published file"));
    eprintln!("/healthz and a cached file in {waited:?}, beside: {compressed_line:?}");
}
