// The site graph: a checked .vireo program, resolved and lowered into the
// form the runtime executes. `lower` (lower.hpp) builds it from an AST that
// has passed the checker; the interpreter walks its statements, and the
// estimators read its sites and dependency edges.
//
// Layout
// ------
// A Graph holds Bodies: the data block's expressions, the model, the guide
// (if any) and one Body per user fn. Each Body owns
//   * its slots — every variable it declares (fn parameters first, then each
//     `let`, `~` that declares, `deterministic`, `param`, loop variable and
//     plate index in source order; a name shadowed in an inner scope gets a
//     new slot), so that an interpreter keeps one value per slot and never
//     looks a name up;
//   * a flat pool of expression nodes (Expr: op, an immediate `ref`/`number`,
//     a range of operand ids in `operands`, and a Span), children before
//     parents, so evaluation is a loop or a short recursion over indices;
//   * its statements as a tree (Stmt), in source order.
// Calls are resolved: CallBuiltin's `ref` is a row id of the builtin table
// (stdlib/signatures) and its operands are in the row's parameter order —
// named arguments are placed, an absent optional or exclusive-alternative
// parameter is `no_expr` — followed by variadic extras. CallFn's `ref` is the
// callee's BodyId and its operands are in the fn's parameter order.
// CallHost's `ref` is a row of the graph's HostTable (the host functions the
// model was compiled with) and its operands are in the row's parameter order.
//
// Sites
// -----
// Every sample (`x ~ D`), observe, param, deterministic and factor statement is a
// Site with a graph-wide id. A site knows its statement's Body, its base name
// (observe sites are named after the data item at the root of the target),
// its distribution (row id and the CallBuiltin expression holding the
// arguments), its value expression (observed target, deterministic value,
// param init), its declared type, the enclosing plates (outermost first) and
// for-loop slots (outermost first: the run-time name is `name[i][j]`, plus
// `#k` for the k-th repeat of the statement in one execution — recursion, a
// fn called twice), its per-site options, and its Span. Params are named by
// their statement: every execution refers to the same parameter.
//
// Dependency edges
// ----------------
// `edges` are static dependencies between sites, one per (from, to, side):
// A -> B when A's value can flow — through lets, assignments, arithmetic,
// builtin and fn arguments and fn returns — into B's distribution arguments,
// its observed target or its deterministic or factor expression (`data_flow`), or
// when B runs only depending on A: B is under an `if` whose condition uses
// A, after an `if` that may `return` depending on A, inside a plate whose
// size uses A, or inside a fn whose call's arguments use A (`control`).
// Params are sources only: a param is one learned value however its
// statement was reached, so no edge points into one. The analysis is per
// side (model, guide): a fn called from both contributes to each
// separately. It is context-insensitive over fn calls (the union over call
// sites), hence conservative.
// `exact == false` marks an edge that holds only through a path whose
// instance-level meaning is lost: a value carried from one loop iteration to
// the next (`x = …` or `x ~ …` read in a later iteration) or a value passed
// through a recursive fn. An estimator that Rao-Blackwellises with these
// edges (TraceGraph_ELBO) must fall back to run-time tracking for inexact
// edges; exact edges relate the statements' instances in the same loop
// iteration (or with no loop) and may be used as they are.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lang/ast.hpp"
#include "lang/source.hpp"
#include "stdlib/signatures/host_table.hpp"
#include "stdlib/signatures/signature.hpp"

namespace vireo::ir {

using lang::Span;
using ExprId = std::int32_t;
using SlotId = std::int32_t;
using SiteId = std::int32_t;
using PlateId = std::int32_t;
using BodyId = std::int32_t;
inline constexpr std::int32_t no_expr = -1;
inline constexpr std::int32_t none = -1;

// ---- expressions ----------------------------------------------------------
enum class Op : std::uint8_t {
  Number,       // `number`; `ref` is 1 when written as an integer
  Bool,         // `number` is 0 or 1
  Slot,         // `ref`: a slot of the enclosing Body
  Data,         // `ref`: index into Graph::data
  Neg, Not,     // one operand
  Add, Sub, Mul, Div, MatMul, Pow, Lt, Le, Gt, Ge, Eq, Ne, And, Or,  // two operands
  CallBuiltin,  // `ref`: sig::BuiltinId; operands per parameter (no_expr if absent), then variadic extras
  CallFn,       // `ref`: the callee's BodyId; operands in its parameter order
  CallHost,     // `ref`: a row of Graph::hosts; operands in its parameter order
  Index,        // operands: base, then one per subscript (an index expression or a Slice)
  Slice,        // operands: lo, hi (no_expr for an open end)
  Vector,       // operands: the elements
};
const char* spelling(Op op);  // "+", "not", "call", …

struct Expr {
  Op op = Op::Number;
  std::int32_t ref = none;
  double number = 0;
  std::uint32_t first = 0;  // operands are Body::operands[first, first + count)
  std::uint32_t count = 0;
  Span span;
};

// ---- statements -----------------------------------------------------------
enum class StmtKind : std::uint8_t {
  Sample,         // site: draws (or replays) the site, writes `slot`
  Observe,        // site: scores the site's target under its distribution
  Let,            // slot = value (a new variable)
  Assign,         // slot = value (a variable of an enclosing scope)
  Deterministic,  // site: slot = site's value, recorded
  Param,          // site: slot = the parameter (created from the site's init on first use)
  Plate,          // plate: body runs once, vectorised; `slot` holds the subsample indices (or none)
  For,            // slot = value .. value2 - 1, body per iteration
  If,             // value is the condition; body, else_body
  Return,         // value
  Scale,          // value is the weight; body
  Factor,         // site: adds the site's value (real, per plate element) to the log density
};

struct Stmt {
  StmtKind kind = StmtKind::Let;
  SiteId site = none;
  SlotId slot = none;
  ExprId value = no_expr;
  ExprId value2 = no_expr;
  PlateId plate = none;
  std::vector<Stmt> body;
  std::vector<Stmt> else_body;
  bool has_else = false;
  // For: an SVI step may run the iterations all at once, as one batch
  // (batch_loops.cpp says when; the interpreter's exec_batched_for how);
  // batch_loop is then its row of Graph::batch_loops.
  bool batchable = false;
  std::int32_t batch_loop = none;
  Span span;
};

// ---- bodies ---------------------------------------------------------------
enum class BodyKind : std::uint8_t { Data, Model, Guide, Fn };

struct Body {
  BodyKind kind = BodyKind::Model;
  std::string name;                     // "model", "guide", the fn's name, "data"
  std::vector<std::string> slot_names;  // per slot, for messages and printing
  std::size_t param_count = 0;          // fn parameters are slots 0 .. param_count-1
  std::vector<Expr> exprs;
  std::vector<ExprId> operands;
  std::vector<Stmt> stmts;
  bool recursive = false;  // a fn that can reach itself through calls
  Span span;

  const Expr& expr(ExprId id) const { return exprs.at(static_cast<std::size_t>(id)); }
  ExprId operand(const Expr& e, std::uint32_t i) const { return operands.at(e.first + i); }
};

// ---- data, plates, sites --------------------------------------------------
// A declared type: `real<lower=0>[J]`; expressions in the owning Body (the
// data Body for data declarations).
struct TypeDecl {
  bool given = false;  // false: no type written (a plain `x ~ D`)
  lang::ast::BaseType base = lang::ast::BaseType::Real;
  ExprId lower = no_expr, upper = no_expr;
  std::vector<ExprId> dims;
};

struct DataDecl {
  std::string name;
  TypeDecl type;
  Span span;
};

// One `plate` statement. Plates are per statement; at run time plates are
// identified by name, so the model's and the guide's `plate data(N)` are the
// same plate (and share the subsample indices the guide draws).
struct Plate {
  PlateId id = none;
  std::string name;
  BodyId body = none;
  ExprId size = no_expr;
  ExprId subsample = no_expr;  // `subsample = B`, or no_expr
  SlotId index_slot = none;    // `as idx`, or none
  PlateId parent = none;       // the enclosing plate in the same Body
  Span span;
};

// Factor: `factor name = e`, a term e of the model's log density; scored like
// an observed site whose log-density is e (no distribution, no slot).
enum class SiteKind : std::uint8_t { Sample, Observe, Param, Deterministic, Factor };
const char* spelling(SiteKind k);

// `with baseline(…)`
struct Baseline {
  bool given = false;
  bool none = false;                 // baseline(none)
  std::optional<double> beta;        // decaying average
  ExprId value = no_expr;            // fixed baseline
  ExprId net = no_expr;              // input of a learned baseline
  int hidden = 0;                    // its hidden width; 0 = the estimator's default
};

// `with enumerate` / `with enumerate(none)`: whether --elbo enum sums the
// site out (Default: when it is enumerable, enum_elbo.hpp).
enum class EnumerateOption : std::uint8_t { Default, On, None };

struct Site {
  SiteId id = none;
  std::string name;
  SiteKind kind = SiteKind::Sample;
  BodyId body = none;
  sig::BuiltinId dist = sig::no_builtin;  // Sample, Observe
  ExprId dist_call = no_expr;             // the CallBuiltin node of the distribution
  ExprId value = no_expr;                 // Observe: target; Deterministic, Factor: value; Param: init
  SlotId slot = none;                     // the variable written (none for Observe)
  TypeDecl type;                          // `x: real[K] ~ …`, `param p: real<lower=0> = …`
  std::vector<PlateId> plates;            // enclosing plates, outermost first
  std::vector<SlotId> loops;              // enclosing for-loop variables, outermost first
  Baseline baseline;
  EnumerateOption enumerate = EnumerateOption::Default;
  Span span;                              // the whole statement
  Span name_span;                         // the name (observe: the target)
  // A latent `~` site of a batchable loop: the loop's row of
  // Graph::batch_loops (none for every other site).
  std::int32_t batch_loop = none;
};

// A `for` loop of the model that an SVI step may run as one batch
// (Stmt::batchable; batch_loops.cpp).
struct BatchLoop {
  std::string frame;            // the batch's frame name, "for t"
  // Its latent `~` sites, in the body's order. A batch with latent sites
  // runs only when all of their values are known before it starts: replayed
  // from a guide that drew each of them as one batch (auto_normal's plan).
  std::vector<SiteId> latent;
  // State carried from one iteration to the next: a variable of the
  // enclosing scope written by the body's `~` statement `site`. In a batch
  // it holds, before that statement, the previous iterations' draws (the
  // value from before the loop first) and after it this iteration's.
  struct Carried {
    SlotId slot = none;
    SiteId site = none;
  };
  std::vector<Carried> carried;
};

// ---- dependency edges ----------------------------------------------------
struct Edge {
  SiteId from = none, to = none;
  BodyKind side = BodyKind::Model;  // Model or Guide: which program's execution
  bool data_flow = false;           // A's value flows into B's arguments or value
  bool control = false;             // whether/how often B runs depends on A
  bool exact = true;                // false: via a loop-carried value or recursion
};

// A call of a host function registered without a gradient whose arguments
// may depend on `site` (compute_dependencies): refused by compile() when the
// site is latent, a param, or a deterministic value of one.
struct HostDependence {
  BodyId body = none;
  ExprId call = no_expr;
  SiteId site = none;
};

// A host function's result may flow (through values or control) into site `to`.
struct HostEdge {
  std::int32_t row = none;  // of Graph::hosts
  SiteId to = none;
  BodyKind side = BodyKind::Model;
};

struct Graph {
  std::string name;  // the file's stem: "eight_schools"
  // The host functions the program was compiled with (Op::CallHost's rows);
  // immutable and shared with the vireo::Model that holds the graph.
  std::shared_ptr<const sig::HostTable> hosts;
  std::vector<HostDependence> host_dependences;
  std::vector<HostEdge> host_edges;  // compute_dependencies; shown by the printers
  std::vector<DataDecl> data;
  std::vector<Body> bodies;  // bodies[data_body] holds the data block's expressions
  BodyId data_body = none, model = none, guide = none;
  std::vector<Site> sites;
  std::vector<Plate> plates;
  std::vector<Edge> edges;
  std::vector<BatchLoop> batch_loops;  // Stmt::batch_loop's rows
  // Whether every execution performs the same operations on the same
  // shapes, whatever the latent values and parameters (fixed_structure.cpp);
  // if not, what varies and where.
  bool fixed_structure = false;
  std::string varying_structure;
  Span varying_structure_at;
  // Sites that run in the model's / guide's execution (their own bodies and
  // the fns they reach), in id order.
  std::vector<SiteId> model_sites, guide_sites;

  const Body& body(BodyId id) const { return bodies.at(static_cast<std::size_t>(id)); }
  const Site& site(SiteId id) const { return sites.at(static_cast<std::size_t>(id)); }
  const Plate& plate(PlateId id) const { return plates.at(static_cast<std::size_t>(id)); }
  BodyId find_fn(const std::string& name) const;  // none when absent
  int find_data(const std::string& name) const;   // index into data, or -1
  // Sites of `side` (BodyKind::Model or Guide) named `name`, in id order.
  std::vector<SiteId> find_sites(BodyKind side, const std::string& name) const;
  // The edge from -> to on `side`, or nullptr.
  const Edge* find_edge(SiteId from, SiteId to, BodyKind side) const;
};

}  // namespace vireo::ir
