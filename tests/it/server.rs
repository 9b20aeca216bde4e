//! The HTTP server as a process (`entente run`) against misbehaving clients: methods
//! other than GET and HEAD, unknown paths, oversized headers, slowloris and
//! thousands of idle connections.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::KillOnDrop as Daemon;
use crate::common::{entente_command, http_get, rss, FeedServer, Route, TestConfig};

/// A daemon over one small feed, serving on a free port; (daemon, address, config).
fn start_daemon() -> (Daemon, String, TestConfig, FeedServer) {
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
    let child = entente_command(&config.path, &["run", "--listen", &addr])
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
