//! The graph compiler's error for each bad-graph case, checked by text.
//!
//! The app types here are small test doubles whose contracts are shaped for
//! each case (a progress exit, a register nobody writes); the real apps'
//! layouts are tested in the catalog and the pipeline tests.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::sync::Arc;

use common::{entry, exit, Fake};
use df_dp::contract::AppContract;
use df_dp::rcu::RcuDomain;
use df_dp::{compile, AppType, Batch, ExitId, Graph, GraphErrors, Layout};

static SRC: AppContract = AppContract {
    type_name: "src",
    summary: "port entry that writes r1",
    entries: &[entry("default", &[], &["a"], true)],
    exits: &[exit("a", &["r1"], false)],
    drops: &[],
    tables: &[],
};
static BARE: AppContract = AppContract {
    type_name: "bare",
    summary: "port entry that writes nothing",
    entries: &[entry("default", &[], &["a"], true)],
    exits: &[exit("a", &[], false)],
    drops: &[],
    tables: &[],
};
static MID: AppContract = AppContract {
    type_name: "mid",
    summary: "reads r1, two exits",
    entries: &[entry("default", &["r1"], &["a", "b"], false)],
    exits: &[exit("a", &[], false), exit("b", &[], false)],
    drops: &[],
    tables: &[],
};
static SINK: AppContract = AppContract {
    type_name: "sink",
    summary: "reads r1, transmits",
    entries: &[entry("default", &["r1"], &[], false)],
    exits: &[],
    drops: &[],
    tables: &[],
};
static ROUTER: AppContract = AppContract {
    type_name: "router",
    summary: "two entries; `back` makes progress",
    entries: &[
        entry("in", &[], &["fwd", "back"], false),
        entry("route", &[], &["fwd"], false),
    ],
    exits: &[exit("fwd", &[], false), exit("back", &[], true)],
    drops: &[],
    tables: &[],
};
static MANY: AppContract = AppContract {
    type_name: "many",
    summary: "too many registers",
    entries: &[entry("default", &[], &["a"], true)],
    exits: &[exit(
        "a",
        &["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"],
        false,
    )],
    drops: &[],
    tables: &[],
};
static SINKONLY: AppContract = AppContract {
    type_name: "sinkonly",
    summary: "no port entry",
    entries: &[entry("default", &[], &[], false)],
    exits: &[],
    drops: &[],
    tables: &[],
};

static TYPES: [Fake; 7] = [
    Fake::forward(&SRC),
    Fake::forward(&BARE),
    Fake::forward(&MID),
    Fake::forward(&SINK),
    Fake::forward(&ROUTER),
    Fake::forward(&MANY),
    Fake::forward(&SINKONLY),
];

fn catalog() -> Vec<&'static dyn AppType> {
    TYPES.iter().map(|t| t as &dyn AppType).collect()
}

fn build(yaml: &str) -> Result<Graph, GraphErrors> {
    let layout = Layout::parse(yaml).map_err(GraphErrors::from)?;
    compile(&layout, &catalog(), &RcuDomain::new())
}

fn errors(yaml: &str) -> Vec<String> {
    match build(yaml) {
        Ok(_) => panic!("layout compiled but should not:\n{yaml}"),
        Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn unknown_type_names_the_vertex_and_the_known_types() {
    assert_eq!(
        errors("vertices:\n  a: {type: src}\n  b: {type: nat}\n  c: {type: sink}\nedges:\n  a.out.a: c.in.default\n"),
        vec!["vertex `b`: unknown app type `nat` (known types: src, bare, mid, sink, router, many, sinkonly)"]
    );
}

#[test]
fn unknown_entry_and_exit_list_what_exists() {
    assert_eq!(
        errors("vertices:\n  a: {type: src}\n  c: {type: sink}\nedges:\n  a.out.nope: c.in.default\n"),
        vec!["edge `a.out.nope: c.in.default`: app type `src` of vertex `a` has no exit `nope` (its exits: a)"]
    );
    assert_eq!(
        errors("vertices:\n  a: {type: src}\n  c: {type: sink}\nedges:\n  a.out.a: c.in.egress\n"),
        vec!["edge `a.out.a: c.in.egress`: app type `sink` of vertex `c` has no entry `egress` (its entries: default)"]
    );
}

#[test]
fn unknown_vertex_and_malformed_endpoints() {
    assert_eq!(
        errors("vertices:\n  a: {type: src}\nedges:\n  a.out.a: zz.in.default\n"),
        vec!["edge `a.out.a: zz.in.default`: no vertex named `zz` (declare it under `vertices:`)"]
    );
    assert_eq!(
        errors("vertices:\n  a: {type: src}\nedges:\n  a.a: a.in.default\n"),
        vec!["edge `a.a: a.in.default`: `a.a` must look like `<vertex>.out.<exit>`"]
    );
    assert_eq!(
        errors("vertices:\n  a: {type: src}\nedges:\n  a.out.a: a.default\n"),
        vec!["edge `a.out.a: a.default`: `a.default` must look like `<vertex>.in.<entry>`"]
    );
}

#[test]
fn exit_wired_twice() {
    assert_eq!(
        errors("vertices:\n  a: {type: src}\n  c: {type: sink}\n  d: {type: sink}\nedges:\n  a.out.a: c.in.default\n  a.out.a: d.in.default\n"),
        vec!["exit `a.out.a` is wired twice: to `c.in.default` and to `d.in.default`; an exit leads to exactly one entry"]
    );
}

#[test]
fn duplicate_and_badly_named_vertices() {
    assert_eq!(
        errors("vertices:\n  a: {type: src}\n  a: {type: sink}\n"),
        vec!["vertex `a` is declared twice; vertex names must be unique"]
    );
    assert_eq!(
        errors("vertices:\n  a.b: {type: src}\n"),
        vec!["vertex `a.b`: a vertex name may only hold letters, digits, `-` and `_`"]
    );
}

#[test]
fn register_read_where_some_path_never_writes_it() {
    assert_eq!(
        errors("vertices:\n  s1: {type: src}\n  s2: {type: bare}\n  k: {type: sink}\nedges:\n  s1.out.a: k.in.default\n  s2.out.a: k.in.default\n"),
        vec!["register `r1` read by `k.in.default` is not written on every path to it: no app writes it on the path through `s2.out.a`"]
    );
}

#[test]
fn register_read_at_a_port_entry() {
    static READS_AT_PORT: AppContract = AppContract {
        type_name: "rp",
        summary: "",
        entries: &[entry("default", &["r1"], &[], true)],
        exits: &[],
        drops: &[],
        tables: &[],
    };
    static T: Fake = Fake::forward(&READS_AT_PORT);
    let layout = Layout::parse("vertices:\n  a: {type: rp}\n").unwrap();
    let e = compile(&layout, &[&T], &RcuDomain::new()).unwrap_err();
    assert_eq!(
        e.0[0].to_string(),
        "register `r1` read by `a.in.default` is not written on every path to it: packets from ports enter here and nothing has written it yet"
    );
}

#[test]
fn unreachable_vertex() {
    assert_eq!(
        errors("vertices:\n  a: {type: src}\n  c: {type: sink}\n  lost: {type: mid}\nedges:\n  a.out.a: c.in.default\n"),
        vec!["vertex `lost` (type mid) is unreachable: no path of edges leads to it from a port entry (a.in.default)"]
    );
}

#[test]
fn loop_without_progress() {
    assert_eq!(
        errors("vertices:\n  a: {type: src}\n  m1: {type: mid}\n  m2: {type: mid}\nedges:\n  a.out.a: m1.in.default\n  m1.out.a: m2.in.default\n  m2.out.a: m1.in.default\n"),
        vec!["loop without progress: m1.in.default -> m1.out.a -> m2.in.default -> m2.out.a -> m1.in.default; a cycle must cross an exit that makes progress (routing to another network, a TTL decrement)"]
    );
    assert_eq!(
        errors("vertices:\n  a: {type: src}\n  m: {type: mid}\nedges:\n  a.out.a: m.in.default\n  m.out.b: m.in.default\n"),
        vec!["loop without progress: m.in.default -> m.out.b -> m.in.default; a cycle must cross an exit that makes progress (routing to another network, a TTL decrement)"]
    );
}

#[test]
fn loop_through_a_progress_exit_compiles_and_terminates() {
    // a -> r.in -> (back, progress) -> m -> r.route -> (fwd) -> k
    //                                    m.out.b -> r.in   (a cycle, via `back`)
    let g = build(
        "vertices:\n  a: {type: src}\n  r: {type: router}\n  m: {type: mid}\n  k: {type: sink}\nedges:\n  a.out.a: r.in.in\n  r.out.back: m.in.default\n  m.out.a: r.in.route\n  m.out.b: r.in.in\n  r.out.fwd: k.in.default\n",
    )
    .unwrap();
    // The drain order puts every non-progress edge forward.
    let order: Vec<String> = g
        .queues()
        .iter()
        .map(|q| {
            let v = &g.vertices()[q.vertex as usize];
            format!("{}.{}", v.name, v.contract.entries[q.entry.0 as usize].name)
        })
        .collect();
    assert_eq!(
        order,
        ["a.default", "m.default", "r.route", "r.in", "k.default"]
    );
    // Every non-progress edge leads to a later queue; the one progress edge
    // (r.out.back) leads back to an earlier one.
    for v in g.vertices() {
        let qs: Vec<u16> = v.entry_queues.iter().flatten().copied().collect();
        for (x, t) in v.targets.iter().enumerate() {
            if let df_dp::stage::Target::Queue(to) = *t {
                let progress = v.contract.exits[x].progress;
                assert!(
                    qs.iter().all(|&q| (q < to) != progress),
                    "{}.out.{} breaks the drain order",
                    v.name,
                    v.contract.exits[x].name
                );
            }
        }
    }

    // Run a packet through: the fake stages take the first exit of each
    // entry, so r.in -> fwd -> k -> tx. Nothing loops forever.
    let g = Arc::new(g);
    let mut ex = df_dp::Executor::new(g.clone(), &df_dp::ExecConfig::default());
    let mut reader = g.rcu().register();
    let mut b = Batch::new();
    let mut p = ex.pool_mut().alloc().unwrap();
    p.set_data(&[0; 60]);
    b.push(p).unwrap();
    ex.process(0, &mut b, &reader);
    reader.quiescent();
    let k = g.vertices().iter().position(|v| v.name == "k").unwrap();
    assert_eq!(ex.counters().vertices[k].packets.get(), 1);
    let _ = ExitId(0);
}

#[test]
fn too_many_registers() {
    assert_eq!(
        errors("vertices:\n  a: {type: many}\n"),
        vec!["the graph uses 9 registers (m1, m2, m3, m4, m5, m6, m7, m8, m9) but a packet carries 8"]
    );
}

#[test]
fn no_port_entry() {
    assert_eq!(
        errors("vertices:\n  a: {type: sinkonly}\n"),
        vec!["no vertex takes packets from ports: add a vertex of a type with a port entry (e.g. `input: {type: input}`)"]
    );
}

#[test]
fn bad_params_are_reported_by_vertex() {
    assert_eq!(
        errors("vertices:\n  a: {type: src, params: {fail: 1}}\n"),
        vec!["vertex `a` (type src): bad params: param `fail` must not be set (got Number(1))"]
    );
}

#[test]
fn all_errors_are_reported_at_once() {
    let e = build("vertices:\n  a: {type: x1}\n  b: {type: x2}\n").unwrap_err();
    assert_eq!(e.0.len(), 2);
    let text = e.to_string();
    assert!(
        text.starts_with("the datapath layout has 2 errors:\n  - vertex `a`"),
        "{text}"
    );
}
