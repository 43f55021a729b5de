//! Reading on a second thread: the AUR's metadata is inflated there while the first thread
//! parses what is already inflated, so each keeps a CPU busy instead of taking turns.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, sync_channel};

/// Bytes per chunk handed over, and chunks that may wait: a few megabytes in flight.
const CHUNK: usize = 1 << 20;
const WAITING: usize = 3;

/// Runs `consume` on a reader of `source`'s bytes, which another thread reads ahead.
pub(crate) fn read_ahead<T>(
    source: impl Read + Send,
    consume: impl FnOnce(&mut dyn Read) -> T,
) -> T {
    let (chunks, received) = sync_channel::<io::Result<Vec<u8>>>(WAITING);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut source = source;
            loop {
                let mut chunk = Vec::with_capacity(CHUNK);
                let read = (&mut source).take(CHUNK as u64).read_to_end(&mut chunk);
                // A send fails once the consumer has stopped: then stop too.
                match read {
                    Ok(0) => return,
                    Ok(_) => {
                        if chunks.send(Ok(chunk)).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        // What was read before the error comes first.
                        if !chunk.is_empty() && chunks.send(Ok(chunk)).is_err() {
                            return;
                        }
                        let _ = chunks.send(Err(e));
                        return;
                    }
                }
            }
        });
        let mut reader = Chunks {
            received,
            chunk: Vec::new(),
            pos: 0,
        };
        // Dropping the reader before the scope ends lets a producer blocked on a full
        // channel see that nobody listens, and finish.
        let result = consume(&mut reader);
        drop(reader);
        result
    })
}

/// The consumer's side: the chunks, in order, as one stream.
struct Chunks {
    received: Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl Read for Chunks {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            match self.received.recv() {
                Ok(chunk) => {
                    self.chunk = chunk?;
                    self.pos = 0;
                }
                // The producer is done: the end of the stream.
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.chunk.len() - self.pos);
        out[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_arrives_in_order() {
        let data: Vec<u8> = (0..5 * CHUNK + 123).map(|i| (i % 251) as u8).collect();
        let got = read_ahead(&data[..], |r| {
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            out
        });
        assert_eq!(got, data);
        assert!(read_ahead(&b""[..], |r| r.read(&mut [0; 8]).unwrap()) == 0);
    }

    #[test]
    fn an_error_arrives_after_the_bytes_before_it() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("broken"));
                }
                let n = out.len().min(self.0);
                out[..n].fill(7);
                self.0 -= n;
                Ok(n)
            }
        }
        let (bytes, err) = read_ahead(Failing(CHUNK + 10), |r| {
            let mut out = Vec::new();
            let err = r.read_to_end(&mut out).unwrap_err();
            (out.len(), err.to_string())
        });
        assert_eq!((bytes, err.as_str()), (CHUNK + 10, "broken"));
    }

    #[test]
    fn a_consumer_that_stops_early_does_not_hang() {
        let endless = io::repeat(1);
        let first = read_ahead(endless, |r| {
            let mut b = [0; 4];
            r.read_exact(&mut b).unwrap();
            b
        });
        assert_eq!(first, [1; 4]);
    }
}
