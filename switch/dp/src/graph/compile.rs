//! The graph compiler: layout + catalog -> a checked, instantiated [`Graph`].
//!
//! It works on the graph of *entry points* (one node per vertex entry): a
//! packet at `v.in.e` may leave by the exits that entry's contract lists, and
//! each wired exit leads to one entry node. On that graph it checks, in order:
//! names (types, vertices, entries, exits, one target per exit), reachability
//! from the port entries, cycles that cross no progress exit (Tarjan's SCCs),
//! and that every register an entry reads is written on every path to it
//! (a forward "must" data-flow to a fixpoint). All problems are collected, so
//! one run of the compiler lists everything wrong with a layout.
//!
//! The queue order the executor drains in is a topological order of the
//! entry graph without progress edges, which the cycle check guarantees.

use std::collections::{HashMap, VecDeque};

use crate::app::{AppType, RegMap, VertexCtx};
use crate::contract::{AppContract, EntryId, ExitId};
use crate::packet::REG_COUNT;
use crate::rcu::RcuDomain;
use crate::stage::Target;

use super::error::{GraphError, GraphErrors};
use super::layout::Layout;
use super::{Graph, QueueInfo, Vertex};

static NULL_PARAMS: serde_yaml::Value = serde_yaml::Value::Null;

struct V<'a> {
    name: &'a str,
    contract: &'static AppContract,
    ty: &'a dyn AppType,
    params: &'a serde_yaml::Value,
    base: usize,
}

#[derive(Clone, Copy)]
struct Succ {
    exit: ExitId,
    to: usize,
    progress: bool,
}

/// Compiles `layout` with the app types of `catalog`, creating each vertex's
/// tables in `rcu`. Exits the layout leaves unwired drop (counted).
///
/// # Errors
/// Every problem found, each naming the vertex, entry, exit or register.
pub fn compile(
    layout: &Layout,
    catalog: &[&dyn AppType],
    rcu: &RcuDomain,
) -> Result<Graph, GraphErrors> {
    compile_with_defaults(layout, catalog, &[], rcu)
}

/// A default edge: an exit of `app_type` the layout leaves unwired goes to
/// the first target whose app type the layout has (exactly one vertex of
/// it); a target with `create` is instantiated (named after its type) when
/// the layout has none. This is how the egress path that Dragonflow kept in
/// fixed tables (ingress security groups, dispatch to the port) joins a
/// layout that does not spell it out, as the seed's does not.
#[derive(Debug, Clone, Copy)]
pub struct DefaultEdge {
    /// The app type whose exit this is.
    pub app_type: &'static str,
    /// The exit.
    pub exit: &'static str,
    /// Candidate targets in order: (app type, entry, create if absent).
    pub targets: &'static [(&'static str, &'static str, bool)],
}

/// As [`compile`], with default edges for unwired exits.
///
/// # Errors
/// As [`compile`], plus a default target that is ambiguous (two vertices of
/// its type).
pub fn compile_with_defaults(
    layout: &Layout,
    catalog: &[&dyn AppType],
    defaults: &[DefaultEdge],
    rcu: &RcuDomain,
) -> Result<Graph, GraphErrors> {
    let mut errs = Vec::new();
    let known = catalog
        .iter()
        .map(|t| t.contract().type_name)
        .collect::<Vec<_>>()
        .join(", ");

    // 1. Vertices and their types.
    let mut vs: Vec<V<'_>> = Vec::new();
    let mut by_name: HashMap<&str, Option<usize>> = HashMap::new();
    let mut nodes = 0usize;
    for d in &layout.vertices {
        if by_name.contains_key(d.name.as_str()) {
            errs.push(GraphError::DuplicateVertex(d.name.clone()));
            continue;
        }
        if d.name.is_empty()
            || !d
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            errs.push(GraphError::BadVertexName(d.name.clone()));
        }
        match catalog
            .iter()
            .find(|t| t.contract().type_name == d.app_type)
        {
            Some(ty) => {
                let contract = ty.contract();
                if let Err(e) = contract.validate() {
                    errs.push(GraphError::BadContract(e.to_string()));
                }
                by_name.insert(&d.name, Some(vs.len()));
                vs.push(V {
                    name: &d.name,
                    contract,
                    ty: *ty,
                    params: &d.params,
                    base: nodes,
                });
                nodes += contract.entries.len();
            }
            None => {
                by_name.insert(&d.name, None);
                errs.push(GraphError::UnknownType {
                    vertex: d.name.clone(),
                    app_type: d.app_type.clone(),
                    known: known.clone(),
                });
            }
        }
    }

    // 2. Edges.
    let mut wired: HashMap<(usize, ExitId), (usize, EntryId, String)> = HashMap::new();
    for e in &layout.edges {
        let edge = e.to_string();
        let Some((fv, fx)) = split(&e.from, ".out.") else {
            errs.push(GraphError::MalformedEndpoint {
                edge,
                text: e.from.clone(),
                expected: "<vertex>.out.<exit>",
            });
            continue;
        };
        let Some((tv, te)) = split(&e.to, ".in.") else {
            errs.push(GraphError::MalformedEndpoint {
                edge,
                text: e.to.clone(),
                expected: "<vertex>.in.<entry>",
            });
            continue;
        };
        let (Some(fi), Some(ti)) = (
            lookup(&by_name, fv, &edge, &mut errs),
            lookup(&by_name, tv, &edge, &mut errs),
        ) else {
            continue;
        };
        // Vertices of unknown type were reported already; skip their edges.
        let (Some(fi), Some(ti)) = (fi, ti) else {
            continue;
        };
        let (from, to) = (&vs[fi], &vs[ti]);
        let exit = from.contract.exit(fx);
        let entry = to.contract.entry(te);
        if exit.is_none() {
            errs.push(GraphError::UnknownExit {
                edge: edge.clone(),
                vertex: fv.to_string(),
                app_type: from.contract.type_name.to_string(),
                exit: fx.to_string(),
                known: names(from.contract.exits.iter().map(|x| x.name)),
            });
        }
        if entry.is_none() {
            errs.push(GraphError::UnknownEntry {
                edge: edge.clone(),
                vertex: tv.to_string(),
                app_type: to.contract.type_name.to_string(),
                entry: te.to_string(),
                known: names(to.contract.entries.iter().map(|x| x.name)),
            });
        }
        let (Some(exit), Some(entry)) = (exit, entry) else {
            continue;
        };
        if let Some((_, _, first)) = wired.get(&(fi, exit)) {
            errs.push(GraphError::ExitWiredTwice {
                exit: e.from.clone(),
                first: first.to_string(),
                second: e.to.clone(),
            });
            continue;
        }
        wired.insert((fi, exit), (ti, entry, e.to.clone()));
    }
    if !errs.is_empty() {
        return Err(GraphErrors(errs));
    }

    // 2b. Default edges for exits the layout leaves unwired.
    let mut implicit = vec![false; vs.len()];
    let mut defaulted: Vec<(usize, ExitId)> = Vec::new();
    let mut vi = 0;
    while vi < vs.len() {
        for (xi, x) in vs[vi].contract.exits.iter().enumerate() {
            let exit = ExitId(xi as u8);
            if wired.contains_key(&(vi, exit)) {
                continue;
            }
            let Some(d) = defaults
                .iter()
                .find(|d| d.app_type == vs[vi].contract.type_name && d.exit == x.name)
            else {
                continue;
            };
            for &(tt, te, create) in d.targets {
                let of_type: Vec<usize> = (0..vs.len())
                    .filter(|&i| vs[i].contract.type_name == tt)
                    .collect();
                let target = match of_type.as_slice() {
                    [one] => Some(*one),
                    [] if create => {
                        let Some(ty) = catalog.iter().find(|t| t.contract().type_name == tt) else {
                            continue;
                        };
                        if by_name.contains_key(tt) {
                            continue;
                        }
                        let contract = ty.contract();
                        by_name.insert(tt, Some(vs.len()));
                        vs.push(V {
                            name: tt,
                            contract,
                            ty: *ty,
                            params: &NULL_PARAMS,
                            base: nodes,
                        });
                        implicit.push(true);
                        nodes += contract.entries.len();
                        Some(vs.len() - 1)
                    }
                    [] => None,
                    _ => {
                        errs.push(GraphError::AmbiguousDefault {
                            exit: format!("{}.out.{}", vs[vi].name, x.name),
                            app_type: tt.to_string(),
                        });
                        None
                    }
                };
                let Some(ti) = target else { continue };
                let Some(entry) = vs[ti].contract.entry(te) else {
                    continue;
                };
                let to = format!("{}.in.{te}", vs[ti].name);
                wired.insert((vi, exit), (ti, entry, to));
                defaulted.push((vi, exit));
                break;
            }
        }
        vi += 1;
    }
    if !errs.is_empty() {
        return Err(GraphErrors(errs));
    }

    // 3. Registers.
    let mut regs: Vec<&'static str> = Vec::new();
    for v in &vs {
        for r in v.contract.registers() {
            if !regs.contains(&r) {
                regs.push(r);
            }
        }
    }
    if regs.len() > REG_COUNT {
        return Err(GraphError::TooManyRegisters {
            needed: regs.len(),
            max: REG_COUNT,
            names: regs.join(", "),
        }
        .into());
    }
    let reg_bit = |name: &str| -> u64 {
        regs.iter()
            .position(|r| *r == name)
            .map_or(0, |i| 1u64 << i)
    };
    let mask = |names: &[&str]| names.iter().fold(0u64, |m, n| m | reg_bit(n));

    // The entry graph.
    let node_name = |n: usize| -> String {
        let (v, e) = owner(&vs, n);
        format!("{}.in.{}", vs[v].name, vs[v].contract.entries[e].name)
    };
    let mut succ: Vec<Vec<Succ>> = vec![Vec::new(); nodes];
    let mut roots = Vec::new();
    for (vi, v) in vs.iter().enumerate() {
        for (ei, e) in v.contract.entries.iter().enumerate() {
            let n = v.base + ei;
            if e.from_ports {
                roots.push(n);
            }
            for xname in e.exits {
                let Some(x) = v.contract.exit(xname) else {
                    continue;
                };
                if let Some(&(ti, te, _)) = wired.get(&(vi, x)) {
                    succ[n].push(Succ {
                        exit: x,
                        to: vs[ti].base + te.0 as usize,
                        progress: v.contract.exits[x.0 as usize].progress,
                    });
                }
            }
        }
    }
    if roots.is_empty() {
        return Err(GraphError::NoPortEntry.into());
    }

    // 4. Reachability.
    let mut reach = vec![false; nodes];
    let mut work: VecDeque<usize> = roots.iter().copied().collect();
    for &r in &roots {
        reach[r] = true;
    }
    while let Some(n) = work.pop_front() {
        for s in &succ[n] {
            if !reach[s.to] {
                reach[s.to] = true;
                work.push_back(s.to);
            }
        }
    }
    let root_names = names(roots.iter().map(|&r| node_name(r)));
    for v in &vs {
        if !(0..v.contract.entries.len()).any(|e| reach[v.base + e]) {
            errs.push(GraphError::Unreachable {
                vertex: v.name.to_string(),
                app_type: v.contract.type_name.to_string(),
                roots: root_names.clone(),
            });
        }
    }

    // 5. Cycles without progress.
    let exit_name = |n: usize, x: ExitId| -> String {
        let (v, _) = owner(&vs, n);
        format!(
            "{}.out.{}",
            vs[v].name, vs[v].contract.exits[x.0 as usize].name
        )
    };
    for scc in tarjan(nodes, &succ, &reach) {
        let cyclic = scc.len() > 1 || succ[scc[0]].iter().any(|s| !s.progress && s.to == scc[0]);
        if cyclic {
            let path = cycle_path(scc[0], &scc, &succ);
            let mut text = node_name(scc[0]);
            let mut at = scc[0];
            for (x, to) in path {
                text.push_str(&format!(" -> {} -> {}", exit_name(at, x), node_name(to)));
                at = to;
            }
            errs.push(GraphError::LoopWithoutProgress { cycle: text });
        }
    }

    // 6. Registers written on every path (must-analysis to a fixpoint).
    let reads: Vec<u64> = (0..nodes)
        .map(|n| {
            let (v, e) = owner(&vs, n);
            mask(vs[v].contract.entries[e].reads)
        })
        .collect();
    let mut preds: Vec<Vec<(usize, ExitId)>> = vec![Vec::new(); nodes];
    for (n, ss) in succ.iter().enumerate() {
        if reach[n] {
            for s in ss {
                preds[s.to].push((n, s.exit));
            }
        }
    }
    let all = if regs.len() >= 64 {
        u64::MAX
    } else {
        (1u64 << regs.len()) - 1
    };
    let mut inset: Vec<u64> = (0..nodes)
        .map(|n| if roots.contains(&n) { 0 } else { all })
        .collect();
    // Out-set of exit x of vertex v: AND over the reachable entries of v that
    // may leave by x of (in | writes(x)).
    let out_of = |inset: &[u64], v: usize, x: ExitId| -> u64 {
        let c = vs[v].contract;
        let w = mask(c.exits[x.0 as usize].writes);
        let xn = c.exits[x.0 as usize].name;
        c.entries
            .iter()
            .enumerate()
            .filter(|(ei, e)| reach[vs[v].base + ei] && e.exits.contains(&xn))
            .fold(all, |m, (ei, _)| m & (inset[vs[v].base + ei] | w))
    };
    loop {
        let mut changed = false;
        for n in 0..nodes {
            if !reach[n] || roots.contains(&n) {
                continue;
            }
            let new = preds[n]
                .iter()
                .fold(all, |m, &(p, x)| m & out_of(&inset, owner(&vs, p).0, x));
            if new != inset[n] {
                inset[n] = new;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for n in 0..nodes {
        if !reach[n] {
            continue;
        }
        let missing = reads[n] & !inset[n];
        for (i, r) in regs.iter().enumerate() {
            if missing & (1 << i) == 0 {
                continue;
            }
            let path = if roots.contains(&n) {
                "packets from ports enter here and nothing has written it yet".to_string()
            } else {
                let via = preds[n]
                    .iter()
                    .find(|&&(p, x)| out_of(&inset, owner(&vs, p).0, x) & (1 << i) == 0)
                    .map(|&(p, x)| exit_name(p, x))
                    .unwrap_or_default();
                format!("no app writes it on the path through `{via}`")
            };
            errs.push(GraphError::RegisterNotWritten {
                register: r.to_string(),
                entry: node_name(n),
                path,
            });
        }
    }
    if !errs.is_empty() {
        return Err(GraphErrors(errs));
    }

    // 7. Queue order: topological over non-progress edges (Kahn).
    let mut indeg = vec![0usize; nodes];
    for n in (0..nodes).filter(|&n| reach[n]) {
        for s in succ[n].iter().filter(|s| !s.progress) {
            indeg[s.to] += 1;
        }
    }
    let mut order = Vec::new();
    let mut ready: VecDeque<usize> = (0..nodes).filter(|&n| reach[n] && indeg[n] == 0).collect();
    while let Some(n) = ready.pop_front() {
        order.push(n);
        for s in succ[n].iter().filter(|s| !s.progress) {
            indeg[s.to] -= 1;
            if indeg[s.to] == 0 {
                ready.push_back(s.to);
            }
        }
    }
    let mut queue_of = vec![None; nodes];
    let mut queues = Vec::new();
    for (q, &n) in order.iter().enumerate() {
        queue_of[n] = Some(q as u16);
        let (v, e) = owner(&vs, n);
        queues.push(QueueInfo {
            vertex: v as u16,
            entry: EntryId(e as u8),
        });
    }

    // 8. Instantiate.
    let regmap = RegMap::new(regs.iter().map(|r| r.to_string()).collect());
    let mut vertices = Vec::new();
    for (vi, v) in vs.iter().enumerate() {
        let ctx = VertexCtx {
            name: v.name,
            params: v.params,
            regs: &regmap,
        };
        let targets = (0..v.contract.exits.len())
            .map(|x| match wired.get(&(vi, ExitId(x as u8))) {
                Some(&(ti, te, _)) => match queue_of[vs[ti].base + te.0 as usize] {
                    Some(q) if v.contract.exits[x].progress => Target::Progress(q),
                    Some(q) => Target::Queue(q),
                    None => Target::Unwired,
                },
                None => Target::Unwired,
            })
            .collect();
        let entry_queues = (0..v.contract.entries.len())
            .map(|e| queue_of[v.base + e])
            .collect();
        match v.ty.instantiate(&ctx, rcu) {
            Ok(instance) => vertices.push(Vertex {
                name: v.name.to_string(),
                contract: v.contract,
                instance,
                targets,
                entry_queues,
                implicit: implicit[vi],
                default_exits: (0..v.contract.exits.len())
                    .map(|x| defaulted.contains(&(vi, ExitId(x as u8))))
                    .collect(),
            }),
            Err(message) => errs.push(GraphError::BadParams {
                vertex: v.name.to_string(),
                app_type: v.contract.type_name.to_string(),
                message,
            }),
        }
    }
    if !errs.is_empty() {
        return Err(GraphErrors(errs));
    }
    let port_entries = roots.iter().filter_map(|&r| queue_of[r]).collect();
    Ok(Graph {
        vertices,
        queues,
        registers: regmap,
        port_entries,
        rcu: rcu.clone(),
    })
}

fn split<'a>(s: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    let (a, b) = s.split_once(sep)?;
    (!a.is_empty() && !b.is_empty() && !b.contains('.')).then_some((a, b))
}

fn lookup(
    by_name: &HashMap<&str, Option<usize>>,
    v: &str,
    edge: &str,
    errs: &mut Vec<GraphError>,
) -> Option<Option<usize>> {
    let r = by_name.get(v).copied();
    if r.is_none() {
        errs.push(GraphError::UnknownVertex {
            edge: edge.to_string(),
            vertex: v.to_string(),
        });
    }
    r
}

fn names<S: AsRef<str>>(it: impl Iterator<Item = S>) -> String {
    let v: Vec<String> = it.map(|s| s.as_ref().to_string()).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn owner(vs: &[V<'_>], n: usize) -> (usize, usize) {
    let v = vs.iter().rposition(|v| v.base <= n).unwrap_or_default();
    (v, n - vs[v].base)
}

/// Strongly connected components of the reachable nodes over non-progress
/// edges (Tarjan, iterative).
fn tarjan(n: usize, succ: &[Vec<Succ>], reach: &[bool]) -> Vec<Vec<usize>> {
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on = vec![false; n];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    let mut next = 0;
    for s in 0..n {
        if !reach[s] || index[s] != usize::MAX {
            continue;
        }
        let mut call: Vec<(usize, usize)> = vec![(s, 0)];
        index[s] = next;
        low[s] = next;
        next += 1;
        stack.push(s);
        on[s] = true;
        while let Some(&mut (v, ref mut i)) = call.last_mut() {
            let edges: Vec<usize> = succ[v]
                .iter()
                .filter(|e| !e.progress)
                .map(|e| e.to)
                .collect();
            if *i < edges.len() {
                let w = edges[*i];
                *i += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on[w] = true;
                    call.push((w, 0));
                } else if on[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(p, _)) = call.last() {
                    low[p] = low[p].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    comp.reverse();
                    out.push(comp);
                }
            }
        }
    }
    out
}

/// A cycle from `start` back to itself inside `scc`, as (exit, next node) steps.
fn cycle_path(start: usize, scc: &[usize], succ: &[Vec<Succ>]) -> Vec<(ExitId, usize)> {
    let mut parent: HashMap<usize, (usize, ExitId)> = HashMap::new();
    let mut q = VecDeque::from([start]);
    let mut seen = vec![start];
    while let Some(n) = q.pop_front() {
        for s in succ[n]
            .iter()
            .filter(|s| !s.progress && scc.contains(&s.to))
        {
            if s.to == start {
                let mut path = vec![(s.exit, start)];
                let mut at = n;
                while at != start {
                    let (p, x) = parent[&at];
                    path.push((x, at));
                    at = p;
                }
                path.reverse();
                return path;
            }
            if !seen.contains(&s.to) {
                seen.push(s.to);
                parent.insert(s.to, (n, s.exit));
                q.push_back(s.to);
            }
        }
    }
    Vec::new()
}
