//! Which worker polls which receive queue.
//!
//! Why round-robin: it is what OVS does with `pmd-rxq-assign=roundrobin`,
//! needs no load measurement, and gives every worker the same number of
//! queues (within one) whatever the ports: (port, queue) pairs are taken
//! port by port, queue by queue, and dealt to the workers in turn, the turn
//! carrying over from one port to the next. Each worker transmits on every
//! port through its own tx queue (tx queue `w` for worker `w`), so only
//! receive queues need assigning.

use std::fmt;

/// (port, rx queue) pairs per worker. `Display` prints the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RxqAssignment {
    ports: Vec<String>,
    workers: Vec<Vec<(u16, u16)>>,
}

impl RxqAssignment {
    /// Deals the rx queues of `ports` (name, rx queue count; port ids are
    /// the indices) to `workers` workers, round-robin.
    pub fn round_robin(ports: &[(&str, u16)], workers: usize) -> RxqAssignment {
        let mut w = vec![Vec::new(); workers];
        let mut turn = 0;
        if workers > 0 {
            for (p, &(_, queues)) in ports.iter().enumerate() {
                for q in 0..queues {
                    w[turn].push((p as u16, q));
                    turn = (turn + 1) % workers;
                }
            }
        }
        RxqAssignment {
            ports: ports.iter().map(|(n, _)| n.to_string()).collect(),
            workers: w,
        }
    }

    /// Number of workers.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Worker `w`'s (port, rx queue) pairs, in polling order.
    pub fn of_worker(&self, w: usize) -> &[(u16, u16)] {
        self.workers.get(w).map_or(&[], Vec::as_slice)
    }

    /// The rx queues of `port` that worker `w` polls.
    pub fn queues(&self, w: usize, port: u16) -> Vec<u16> {
        self.of_worker(w)
            .iter()
            .filter(|&&(p, _)| p == port)
            .map(|&(_, q)| q)
            .collect()
    }

    /// The ports worker `w` polls (each once, in port order).
    pub fn rx_ports(&self, w: usize) -> Vec<u16> {
        let mut ports: Vec<u16> = self.of_worker(w).iter().map(|&(p, _)| p).collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }
}

impl fmt::Display for RxqAssignment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.ports.iter().map(String::len).max().unwrap_or(4).max(4);
        writeln!(f, "worker  {:<width$}  rxq", "port")?;
        for (w, qs) in self.workers.iter().enumerate() {
            if qs.is_empty() {
                writeln!(f, "{w:<6}  {:<width$}  -", "(none)")?;
            }
            for &(p, q) in qs {
                let name = self.ports.get(usize::from(p)).map_or("?", String::as_str);
                writeln!(f, "{w:<6}  {name:<width$}  {q}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_carries_the_turn_across_ports() {
        let a = RxqAssignment::round_robin(&[("net_null0", 2), ("net_null1", 2)], 2);
        assert_eq!(a.of_worker(0), &[(0, 0), (1, 0)]);
        assert_eq!(a.of_worker(1), &[(0, 1), (1, 1)]);
        let a = RxqAssignment::round_robin(&[("p0", 1), ("p1", 1), ("p2", 1)], 2);
        assert_eq!(a.of_worker(0), &[(0, 0), (2, 0)]);
        assert_eq!(a.of_worker(1), &[(1, 0)]);
        assert_eq!(a.queues(0, 2), vec![0]);
        assert_eq!(a.rx_ports(0), vec![0, 2]);
        assert_eq!(
            a.to_string(),
            "worker  port  rxq\n0       p0    0\n0       p2    0\n1       p1    0\n"
        );
        let idle = RxqAssignment::round_robin(&[("p0", 1)], 2);
        assert!(idle.to_string().contains("1       (none)  -"));
    }
}
