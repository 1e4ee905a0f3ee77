//! pcap file ports: replay the frames of a capture file as received packets,
//! and write transmitted packets to a capture file.
//!
//! The classic libpcap format (microsecond or nanosecond timestamps, either
//! byte order, link type Ethernet) is read whole at open, so the hot path only
//! copies frames; a malformed file is refused at open with an error that names
//! the file, the record and the offset. Output is written through a buffered
//! writer and flushed when the port is dropped or [`PcapPort::flush`] is called.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{Port, PortStats};
use crate::batch::Batch;
use crate::packet::PacketPool;

const LINKTYPE_ETHERNET: u32 = 1;

/// A pcap file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    /// The file could not be read or written.
    #[error("pcap file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid Ethernet pcap.
    #[error("pcap file {path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the offset.
        message: String,
    },
}

/// Frames read from a pcap file.
#[derive(Debug, Clone, Default)]
pub struct PcapFrames {
    data: Vec<u8>,
    offsets: Vec<(usize, usize)>,
}

impl PcapFrames {
    /// Parses a pcap file's bytes. `path` only names the file in errors.
    ///
    /// # Errors
    /// A bad magic number, a link type other than Ethernet, or a truncated
    /// or oversized record.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<PcapFrames, PcapError> {
        let fmt_err = |message: String| PcapError::Format {
            path: path.to_path_buf(),
            message,
        };
        let Some(hdr) = bytes.get(..24) else {
            return Err(fmt_err(format!(
                "too short for a pcap header ({} bytes, need 24)",
                bytes.len()
            )));
        };
        let magic = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
        let le = match magic {
            0xa1b2_c3d4 | 0xa1b2_3c4d => true,
            0xd4c3_b2a1 | 0x4d3c_b2a1 => false,
            _ => {
                return Err(fmt_err(format!(
                    "bad magic number {magic:#010x}: not a classic pcap file (pcapng is not supported; convert with `editcap -F pcap`)"
                )))
            }
        };
        let rd = |b: &[u8], at: usize| -> u32 {
            let w = [b[at], b[at + 1], b[at + 2], b[at + 3]];
            if le {
                u32::from_le_bytes(w)
            } else {
                u32::from_be_bytes(w)
            }
        };
        let link = rd(hdr, 20);
        if link != LINKTYPE_ETHERNET {
            return Err(fmt_err(format!("link type {link} is not Ethernet (1)")));
        }
        let mut out = PcapFrames::default();
        let mut at = 24;
        let mut n = 0usize;
        while at < bytes.len() {
            let Some(rec) = bytes.get(at..at + 16) else {
                return Err(fmt_err(format!(
                    "record {n} at offset {at}: truncated record header"
                )));
            };
            let incl = rd(rec, 8) as usize;
            if incl > 262_144 {
                return Err(fmt_err(format!(
                    "record {n} at offset {at}: captured length {incl} is implausible"
                )));
            }
            let start = at + 16;
            if bytes.len() < start + incl {
                return Err(fmt_err(format!(
                    "record {n} at offset {at}: captured length {incl} but only {} bytes left",
                    bytes.len() - start
                )));
            }
            out.offsets.push((out.data.len(), incl));
            out.data.extend_from_slice(&bytes[start..start + incl]);
            at = start + incl;
            n += 1;
        }
        Ok(out)
    }

    /// Reads and parses a pcap file.
    ///
    /// # Errors
    /// As [`PcapFrames::parse`], or the file cannot be read.
    pub fn load(path: &Path) -> Result<PcapFrames, PcapError> {
        let bytes = std::fs::read(path).map_err(|source| PcapError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        PcapFrames::parse(&bytes, path)
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// True if the file held no frames.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Frame `i`.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let &(o, l) = self.offsets.get(i)?;
        self.data.get(o..o + l)
    }

    /// The frames as owned vectors (for generators).
    pub fn to_vecs(&self) -> Vec<Vec<u8>> {
        (0..self.len())
            .filter_map(|i| self.get(i).map(<[u8]>::to_vec))
            .collect()
    }
}

/// Writes frames to a pcap file (microsecond timestamps, little endian).
#[derive(Debug)]
pub struct PcapWriter {
    path: PathBuf,
    out: BufWriter<File>,
    start: std::time::Instant,
}

impl PcapWriter {
    /// Creates (truncates) `path` and writes the file header.
    ///
    /// # Errors
    /// The file cannot be created or written.
    pub fn create(path: &Path) -> Result<PcapWriter, PcapError> {
        let io = |source| PcapError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut out = BufWriter::new(File::create(path).map_err(io)?);
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&65_535u32.to_le_bytes());
        h.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&h).map_err(io)?;
        Ok(PcapWriter {
            path: path.to_path_buf(),
            out,
            start: std::time::Instant::now(),
        })
    }

    /// Appends one frame.
    ///
    /// # Errors
    /// The write fails.
    pub fn write(&mut self, frame: &[u8]) -> Result<(), PcapError> {
        let t = self.start.elapsed();
        let mut rec = [0u8; 16];
        rec[0..4].copy_from_slice(&(t.as_secs() as u32).to_le_bytes());
        rec[4..8].copy_from_slice(&t.subsec_micros().to_le_bytes());
        rec[8..12].copy_from_slice(&(frame.len() as u32).to_le_bytes());
        rec[12..16].copy_from_slice(&(frame.len() as u32).to_le_bytes());
        let io = |source| PcapError::Io {
            path: self.path.clone(),
            source,
        };
        self.out.write_all(&rec).map_err(io)?;
        self.out.write_all(frame).map_err(io)
    }

    /// Flushes buffered records to the file.
    ///
    /// # Errors
    /// The write fails.
    pub fn flush(&mut self) -> Result<(), PcapError> {
        self.out.flush().map_err(|source| PcapError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

/// A port that replays a pcap file and/or writes what it transmits to one.
#[derive(Debug)]
pub struct PcapPort {
    name: String,
    frames: PcapFrames,
    next: usize,
    infinite: bool,
    writer: Option<PcapWriter>,
    write_errors: u64,
    stats: PortStats,
}

impl PcapPort {
    /// A port that receives `rx` (once, or forever if `infinite`) and writes
    /// transmitted frames to `tx` (or discards them).
    ///
    /// # Errors
    /// Either file cannot be used.
    pub fn open(
        name: &str,
        rx: Option<&Path>,
        infinite: bool,
        tx: Option<&Path>,
    ) -> Result<PcapPort, PcapError> {
        let frames = match rx {
            Some(p) => PcapFrames::load(p)?,
            None => PcapFrames::default(),
        };
        let writer = tx.map(PcapWriter::create).transpose()?;
        Ok(PcapPort {
            name: name.to_string(),
            frames,
            next: 0,
            infinite,
            writer,
            write_errors: 0,
            stats: PortStats::default(),
        })
    }

    /// Flushes the output file.
    ///
    /// # Errors
    /// The write fails.
    pub fn flush(&mut self) -> Result<(), PcapError> {
        match &mut self.writer {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }

    /// Frames that could not be written to the output file.
    pub fn write_errors(&self) -> u64 {
        self.write_errors
    }
}

impl Port for PcapPort {
    fn name(&self) -> &str {
        &self.name
    }

    fn rx_burst(&mut self, pool: &mut PacketPool, batch: &mut Batch) -> usize {
        let mut n = 0;
        while !batch.is_full() && !self.frames.is_empty() {
            if self.next == self.frames.len() {
                if !self.infinite {
                    break;
                }
                self.next = 0;
            }
            let Some(frame) = self.frames.get(self.next) else {
                break;
            };
            self.next += 1;
            let Some(mut p) = pool.alloc() else {
                self.stats.rx_dropped += 1;
                break;
            };
            if !p.set_data(frame) {
                self.stats.rx_dropped += 1;
                pool.free(p);
                continue;
            }
            self.stats.rx_packets += 1;
            self.stats.rx_bytes += frame.len() as u64;
            let _ = batch.push(p);
            n += 1;
        }
        n
    }

    fn tx_burst(&mut self, batch: &mut Batch, pool: &mut PacketPool) -> usize {
        let n = batch.len();
        for p in batch.drain() {
            if let Some(w) = &mut self.writer {
                if w.write(p.data()).is_err() {
                    self.write_errors += 1;
                }
            }
            self.stats.tx_bytes += p.len() as u64;
            pool.free(p);
        }
        self.stats.tx_packets += n as u64;
        n
    }

    fn stats(&self) -> PortStats {
        self.stats
    }
}

impl Drop for PcapPort {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read_back() {
        let dir = std::env::temp_dir().join(format!("df-pcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.pcap");
        let mut w = PcapWriter::create(&path).unwrap();
        w.write(&[1; 60]).unwrap();
        w.write(&[2; 100]).unwrap();
        w.flush().unwrap();
        let f = PcapFrames::load(&path).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f.get(1).unwrap(), &[2; 100][..]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn malformed_files_are_refused_with_the_offset() {
        let p = Path::new("x.pcap");
        let e = PcapFrames::parse(&[0; 10], p).unwrap_err().to_string();
        assert!(e.contains("too short"), "{e}");
        let mut good = Vec::new();
        good.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        good.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0]);
        good.extend_from_slice(&1u32.to_le_bytes());
        let mut rec = vec![0u8; 8];
        rec.extend_from_slice(&50u32.to_le_bytes());
        rec.extend_from_slice(&50u32.to_le_bytes());
        rec.extend_from_slice(&[0; 10]);
        let mut bad = good.clone();
        bad.extend_from_slice(&rec);
        let e = PcapFrames::parse(&bad, p).unwrap_err().to_string();
        assert_eq!(
            e,
            "pcap file x.pcap: record 0 at offset 24: captured length 50 but only 10 bytes left"
        );
        let mut wrong_link = good.clone();
        wrong_link[20] = 113;
        let e = PcapFrames::parse(&wrong_link, p).unwrap_err().to_string();
        assert!(e.contains("link type 113"), "{e}");
        assert!(PcapFrames::parse(&good, p).unwrap().is_empty());
    }
}
