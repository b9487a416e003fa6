//! Readers racing the atomic writer never see a partial file.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use promstack::files::{write_atomic, TEMP_SUFFIX};

/// A self-checking document: a header with the body's length and a checksum, then the body.
fn document(i: usize) -> Vec<u8> {
    let body: Vec<u8> = (0..(1000 + (i * 7919) % 200_000)).map(|k| b'a' + ((k + i) % 26) as u8).collect();
    let sum: u64 = body.iter().map(|&b| b as u64).sum();
    let mut doc = format!("{}:{}\n", body.len(), sum).into_bytes();
    doc.extend_from_slice(&body);
    doc
}

fn is_whole(doc: &[u8]) -> bool {
    let Some(nl) = doc.iter().position(|&b| b == b'\n') else { return false };
    let header = std::str::from_utf8(&doc[..nl]).unwrap_or("");
    let Some((len, sum)) = header.split_once(':') else { return false };
    let body = &doc[nl + 1..];
    len.parse::<usize>() == Ok(body.len()) && sum.parse::<u64>() == Ok(body.iter().map(|&b| b as u64).sum())
}

#[test]
fn readers_never_see_a_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("targets.json");
    write_atomic(&path, &document(0)).unwrap();
    let done = Arc::new(AtomicBool::new(false));

    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (path, done) = (path.clone(), done.clone());
            std::thread::spawn(move || {
                let mut reads = 0u64;
                while !done.load(Ordering::Relaxed) {
                    let doc = std::fs::read(&path).expect("the file always exists");
                    assert!(is_whole(&doc), "partial read of {} bytes", doc.len());
                    reads += 1;
                }
                reads
            })
        })
        .collect();

    for i in 1..400 {
        write_atomic(&path, &document(i)).unwrap();
    }
    done.store(true, Ordering::Relaxed);
    let reads: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert!(reads > 100, "the readers really raced the writer ({reads} reads)");
    assert_eq!(std::fs::read(&path).unwrap(), document(399));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(TEMP_SUFFIX))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
