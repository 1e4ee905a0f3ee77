//! Every way a layout can be wrong, each with a message that names the vertex,
//! the entry or exit, and what would fix it.

use std::fmt;

/// One problem found in a layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// The YAML does not have the layout's shape.
    #[error("layout: {0}")]
    Syntax(String),
    /// Two vertices share a name.
    #[error("vertex `{0}` is declared twice; vertex names must be unique")]
    DuplicateVertex(String),
    /// A vertex name with characters the edge syntax cannot carry.
    #[error("vertex `{0}`: a vertex name may only hold letters, digits, `-` and `_`")]
    BadVertexName(String),
    /// `type:` names no app in the catalog.
    #[error("vertex `{vertex}`: unknown app type `{app_type}` (known types: {known})")]
    UnknownType {
        /// The vertex.
        vertex: String,
        /// The type it asked for.
        app_type: String,
        /// The catalog's types, comma-separated.
        known: String,
    },
    /// An edge end that is not `<vertex>.out.<exit>` / `<vertex>.in.<entry>`.
    #[error("edge `{edge}`: `{text}` must look like `{expected}`")]
    MalformedEndpoint {
        /// The whole edge as written.
        edge: String,
        /// The end that is malformed.
        text: String,
        /// The expected form.
        expected: &'static str,
    },
    /// An edge names a vertex the layout does not declare.
    #[error("edge `{edge}`: no vertex named `{vertex}` (declare it under `vertices:`)")]
    UnknownVertex {
        /// The whole edge as written.
        edge: String,
        /// The missing vertex.
        vertex: String,
    },
    /// An edge names an exit the vertex's app does not have.
    #[error("edge `{edge}`: app type `{app_type}` of vertex `{vertex}` has no exit `{exit}` (its exits: {known})")]
    UnknownExit {
        /// The whole edge.
        edge: String,
        /// The vertex.
        vertex: String,
        /// Its type.
        app_type: String,
        /// The exit asked for.
        exit: String,
        /// The exits it has.
        known: String,
    },
    /// An edge names an entry the vertex's app does not have.
    #[error("edge `{edge}`: app type `{app_type}` of vertex `{vertex}` has no entry `{entry}` (its entries: {known})")]
    UnknownEntry {
        /// The whole edge.
        edge: String,
        /// The vertex.
        vertex: String,
        /// Its type.
        app_type: String,
        /// The entry asked for.
        entry: String,
        /// The entries it has.
        known: String,
    },
    /// One exit wired to two entries.
    #[error("exit `{exit}` is wired twice: to `{first}` and to `{second}`; an exit leads to exactly one entry")]
    ExitWiredTwice {
        /// The exit.
        exit: String,
        /// The first target.
        first: String,
        /// The second target.
        second: String,
    },
    /// No vertex can take packets from ports.
    #[error("no vertex takes packets from ports: add a vertex of a type with a port entry (e.g. `input: {{type: input}}`)")]
    NoPortEntry,
    /// A vertex no packet can reach.
    #[error("vertex `{vertex}` (type {app_type}) is unreachable: no path of edges leads to it from a port entry ({roots})")]
    Unreachable {
        /// The vertex.
        vertex: String,
        /// Its type.
        app_type: String,
        /// The port entries.
        roots: String,
    },
    /// A register read on some path where nothing wrote it.
    #[error("register `{register}` read by `{entry}` is not written on every path to it: {path}")]
    RegisterNotWritten {
        /// The register.
        register: String,
        /// The entry that reads it.
        entry: String,
        /// Where it is missing.
        path: String,
    },
    /// A cycle with no progress exit on it.
    #[error("loop without progress: {cycle}; a cycle must cross an exit that makes progress (routing to another network, a TTL decrement)")]
    LoopWithoutProgress {
        /// The cycle, as `a.in.x -> a.out.y -> b.in.z -> ...`.
        cycle: String,
    },
    /// More registers than a packet carries.
    #[error("the graph uses {needed} registers ({names}) but a packet carries {max}")]
    TooManyRegisters {
        /// Registers needed.
        needed: usize,
        /// Registers available.
        max: usize,
        /// Their names.
        names: String,
    },
    /// The app rejected the vertex's params.
    #[error("vertex `{vertex}` (type {app_type}): bad params: {message}")]
    BadParams {
        /// The vertex.
        vertex: String,
        /// Its type.
        app_type: String,
        /// What the app said.
        message: String,
    },
    /// A default edge could go to two vertices.
    #[error("exit `{exit}` is unwired and its default target, app type `{app_type}`, has several vertices in the layout: wire the exit explicitly")]
    AmbiguousDefault {
        /// The exit.
        exit: String,
        /// The target type.
        app_type: String,
    },
    /// The app's contract contradicts itself (an app bug).
    #[error("{0}")]
    BadContract(String),
}

/// Every problem found in a layout, one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphErrors(pub Vec<GraphError>);

impl fmt::Display for GraphErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "the datapath layout has {n} error{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            write!(f, "\n  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for GraphErrors {}

impl From<GraphError> for GraphErrors {
    fn from(e: GraphError) -> Self {
        GraphErrors(vec![e])
    }
}
