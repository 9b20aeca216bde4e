//! How a packed body (see [`super::rows`]) is compressed: zstd at level -1, with one
//! compression and one decompression context per thread, reused for every row.
//!
//! Rows packed before (raw deflate) read as they are, without a migration: a zstd
//! frame begins with the magic `28 B5 2F FD`, and no raw deflate stream can begin
//! with it. Its first byte would be a non-final stored block (`BTYPE` 00), whose
//! `LEN` (`B5 2F`) and `NLEN` (`FD ..`) would have to be one's complements, and
//! `!0x2FB5` is `0xD04A`.
//!
//! Why zstd: deflate was most of the writer's instructions, and most of that was the
//! reset of its state for each row (miniz zeroes about 300 KB of tables). A reused
//! zstd context sized for the row's few kilobytes starts a frame without zeroing
//! them, compresses several times faster, and inflates several times faster for
//! `retag` and the feeds; on the bench farm it stores 663 bytes of text per row
//! where deflate's fast level stored 775 (BENCHMARKS.md, branch store3).
//!
//! Why level -1 rather than 1: a row is a few kilobytes, so zstd's fixed cost per
//! frame, building the Huffman table of the literals, was a third of its work; level
//! -1 stores the literals as they are. On the bench farm it packs with 29 % fewer
//! instructions (the parse threads' largest single cost after the classifier) and
//! stores 745 bytes a row instead of 653: 1,840 bytes a database item instead of
//! 1,714, under the 2,500 of issue 8 (BENCHMARKS.md, branch parse7). Rows packed at
//! level 1 read as they are: the level is not part of the format.

use std::cell::RefCell;

/// The first bytes of every zstd frame (RFC 8878, 3.1.1).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
/// The first of the fast levels, which leave the literals uncompressed (see the
/// module). Level 1 stored 12 % fewer bytes for 42 % more instructions; level -3
/// stored 16 % more than -1 for 1 % fewer, level -7 51 % more for 11 % fewer.
const LEVEL: i32 = -1;
/// No stored text is near this (the fields are capped at parse time): a frame that
/// claims more is damaged, and is refused rather than allocated.
const MAX_PLAIN_BYTES: u64 = 64 << 20;

/// A frame buffer grown beyond this by a huge text is given back rather than kept.
const KEEP_FRAME_BYTES: usize = 256 * 1024;

thread_local! {
    static COMPRESSOR: RefCell<zstd_safe::CCtx<'static>> = RefCell::new(zstd_safe::CCtx::create());
    // The frame is written here, at zstd's bound, then copied out at its length.
    static FRAME: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static DECOMPRESSOR: RefCell<zstd_safe::DCtx<'static>> =
        RefCell::new(zstd_safe::DCtx::create());
    // Rows packed before zstd: one decompressor per thread, reset, not rebuilt.
    static INFLATE: RefCell<flate2::Decompress> = RefCell::new(flate2::Decompress::new(false));
}

/// `plain` compressed as one zstd frame (its size recorded in the frame header), in a
/// buffer of its own length.
///
/// Why not a buffer of zstd's bound, returned as it is: the bound is the plain text's
/// length and more, nearly four times what a row's frame holds on the bench farm
/// (2,719 bytes of text, 745 of frame), and the row waits for the writer in a queue
/// whose budget counts the frame's length (`pipeline::items_kib`), so the bound's
/// slack was memory no budget saw. One buffer per thread at the bound, and a copy of
/// the frame, cost a copy of a few hundred bytes and no `realloc`.
pub(super) fn compress(plain: &[u8]) -> Vec<u8> {
    COMPRESSOR.with(|compressor| {
        FRAME.with(|frame| {
            let mut frame = frame.borrow_mut();
            frame.clear();
            frame.reserve(zstd_safe::compress_bound(plain.len()));
            compressor
                .borrow_mut()
                .compress(&mut *frame, plain, LEVEL)
                .expect("compressing into a buffer of compress_bound bytes cannot fail");
            let packed = frame.to_vec();
            if frame.capacity() > KEEP_FRAME_BYTES {
                *frame = Vec::new();
            }
            packed
        })
    })
}

/// The text of a packed body: a zstd frame, or a raw deflate stream from before.
pub(super) fn decompress(packed: &[u8]) -> Result<Vec<u8>, String> {
    if packed.starts_with(&ZSTD_MAGIC) {
        unzstd(packed)
    } else {
        inflate(packed)
    }
}

fn unzstd(frame: &[u8]) -> Result<Vec<u8>, String> {
    let size = zstd_safe::get_frame_content_size(frame)
        .map_err(|_| "a damaged zstd frame header".to_string())?
        .ok_or("a zstd frame without its size")?;
    if size > MAX_PLAIN_BYTES {
        return Err(format!("a zstd frame that claims {size} bytes"));
    }
    DECOMPRESSOR.with(|decompressor| {
        let mut out = Vec::with_capacity(size as usize);
        let written = decompressor
            .borrow_mut()
            .decompress(&mut out, frame)
            .map_err(|code| format!("zstd: {}", zstd_safe::get_error_name(code)))?;
        if written as u64 != size {
            return Err(format!(
                "a zstd frame of {written} bytes that claims {size}"
            ));
        }
        Ok(out)
    })
}

fn inflate(input: &[u8]) -> Result<Vec<u8>, String> {
    INFLATE.with(|decompressor| {
        let mut decompressor = decompressor.borrow_mut();
        decompressor.reset(false);
        let mut out = Vec::with_capacity(input.len() * 3 + 64);
        loop {
            let consumed = usize::try_from(decompressor.total_in()).unwrap_or(usize::MAX);
            let produced = out.len();
            let status = decompressor
                .decompress_vec(&input[consumed..], &mut out, flate2::FlushDecompress::None)
                .map_err(|e| e.to_string())?;
            if status == flate2::Status::StreamEnd {
                return Ok(out);
            }
            if out.len() == out.capacity() {
                out.reserve(out.capacity());
            } else if out.len() == produced && decompressor.total_in() as usize == consumed {
                return Err("the packed text ends before its stream does".into());
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What rows packed before zstd hold: raw deflate at the fast level.
    fn deflate(input: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(input).unwrap();
        encoder.finish().unwrap()
    }

    fn text(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| format!("word{} ", i % 97))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn a_packed_text_reads_back_and_is_smaller() {
        for n in [0, 1, 50, 400, 5_000] {
            let plain = text(n);
            let packed = compress(&plain);
            assert!(packed.starts_with(&ZSTD_MAGIC));
            // Held at its length, not at zstd's bound.
            assert_eq!(packed.capacity(), packed.len());
            assert_eq!(decompress(&packed).unwrap(), plain);
            if n >= 400 {
                assert!(
                    packed.len() * 3 < plain.len(),
                    "{} of {}",
                    packed.len(),
                    plain.len()
                );
            }
        }
    }

    #[test]
    fn rows_packed_with_deflate_before_still_read() {
        for n in [0, 1, 50, 400, 5_000] {
            let plain = text(n);
            let old = deflate(&plain);
            assert!(!old.starts_with(&ZSTD_MAGIC));
            assert_eq!(decompress(&old).unwrap(), plain);
        }
    }

    #[test]
    fn no_deflate_stream_begins_with_the_zstd_magic() {
        // A stored block would need LEN and NLEN to be complements; the magic's are not.
        let (len, nlen) = (u16::from_le_bytes([0xB5, 0x2F]), 0xFD_u8);
        assert_ne!((!len).to_le_bytes()[0], nlen);
        // And an inflater refuses the magic (it is not a stream that reads as text).
        let mut bytes = ZSTD_MAGIC.to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        assert!(inflate(&bytes).is_err());
    }

    #[test]
    fn a_damaged_frame_is_an_error_not_a_panic() {
        let mut packed = compress(&text(400));
        let middle = packed.len() / 2;
        packed[middle] ^= 0xFF;
        packed.truncate(packed.len() - 3);
        assert!(decompress(&packed).is_err());
        assert!(decompress(&ZSTD_MAGIC).is_err());
        // A header that claims far more than any stored text.
        let mut huge = ZSTD_MAGIC.to_vec();
        huge.extend_from_slice(&[0xE0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00]);
        assert!(decompress(&huge).is_err());
    }
}
