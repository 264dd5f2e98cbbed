// The checker's state, shared by its translation units: check_program.cpp
// (items, data block, model/guide agreement), check_stmt.cpp (statements,
// scopes, sites) and check_expr.cpp (expressions and calls). Internal to
// lang/check; users call lang::check (check.hpp).
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "lang/ast.hpp"
#include "lang/check/value_type.hpp"
#include "lang/diagnostic.hpp"
#include "stdlib/signatures/host_table.hpp"
#include "stdlib/signatures/signature.hpp"

namespace vireo::lang::check_detail {

enum class Part { Model, Guide, Fn };

struct DataInfo {
  ValueType type;
  ast::BaseType base = ast::BaseType::Real;
  Span span;
};

struct VarInfo {
  ValueType type;
  Span span;
};

struct PlateInfo {
  std::string name;
  int id = 0;
  sig::Dim size;  // tagged with id
};

// A site recorded for the model/guide agreement check.
struct SiteRecord {
  std::string name;
  Span span;
  bool latent = false;  // a `~` sample site (not observe/param/deterministic)
  const sig::Signature* dist = nullptr;  // for sample sites with a known distribution
};

// The state of checking one body (the model, the guide, or one fn).
struct Body {
  Part part = Part::Model;
  std::string fn_name;                       // for Part::Fn
  std::vector<std::map<std::string, VarInfo>> scopes;
  std::vector<PlateInfo> plates;
  int loop_depth = 0;
  std::map<std::string, Span> path_sites;    // site key -> first statement, along the current path
  std::set<std::string> reported_unknown;    // names already reported unknown in this body
  std::vector<SiteRecord> sites;             // every site statement of the body
  std::set<std::string> calls;               // user fns called from this body
  std::vector<Span> factors;                 // its `factor` statements (a guide may not reach one)
};

class Checker {
 public:
  explicit Checker(Diagnostics& diags, const sig::HostTable* hosts = nullptr) : diags_(diags), hosts_(hosts) {}
  void run(const ast::Program& program);

  // ---- check_program.cpp
  void check_data(const ast::DataBlock& block);
  void check_type_dims(const ast::TypeExpr& type, bool data_block, std::vector<sig::Dim>& dims);
  void check_agreement(const ast::GuideBlock& guide);
  std::set<std::string> reachable_sites(const Body& body, bool latent_only, std::map<std::string, const SiteRecord*>* where);

  // ---- check_stmt.cpp
  void check_block(const ast::Block& block);
  void check_stmt(const ast::Stmt& stmt);
  void check_sample(const ast::SampleStmt& s);
  void check_observe(const ast::ObserveStmt& s, const ast::Stmt& stmt);
  void check_param(const ast::ParamStmt& s);
  sig::Shape observed_shape(sig::Shape t, const std::string& name, Span span, const std::vector<sig::Dim>* declared);
  std::string plural_plates() const;  // "plates 'schools', 'pupils'"
  void check_factor(const ast::FactorStmt& s, const ast::Stmt& stmt);
  void check_guide_factors();
  void check_plate(const ast::PlateStmt& s);
  void check_if(const ast::IfStmt& s);
  void check_options(const std::vector<ast::SiteOption>& options, bool observed);
  void record_site(const std::string& name, Span span, bool latent, const sig::Signature* dist = nullptr);
  void declare(const std::string& name, Span span, ValueType type);
  VarInfo* lookup(const std::string& name);
  void push_scope() { body_->scopes.emplace_back(); }
  void pop_scope() { body_->scopes.pop_back(); }
  std::vector<sig::Dim> plate_dims() const;

  // ---- check_expr.cpp
  ValueType check_expr(const ast::Expr& e);
  ValueType check_call(const ast::Call& c, Span span, bool want_distribution);
  ValueType check_index(const ast::Index& ix, Span span);
  ValueType check_binary(const ast::Binary& b);
  void check_domains(const sig::Signature& s, const ast::Call& c, const sig::Binding& bind);
  // A call of a host function: arity through its row, each argument's shape
  // against the declared one; the result has the declared shape.
  ValueType check_host_call(const ast::Call& c, Span span, bool want_distribution, const sig::HostRow& row,
                            const std::vector<ValueType>& arg_types);
  // The host function named `name`, or nullptr.
  const sig::HostRow* host(const std::string& name) const;
  // The distribution call on the right of `~`: its sample's kind and shape.
  ValueType check_distribution(const ast::Expr& e, const sig::Signature** sig_out);
  sig::Dim as_dim(const ast::Expr& e) const;
  std::string plate_words(const sig::Shape& s) const;  // "plate 'schools' and plate 'pupils'"  // a literal or data-name size, else unknown
  void unknown_name(const std::string& name, Span span);
  std::vector<std::string> visible_names() const;
  void shape_error(Span span, const std::string& message, const std::string& hint = "");

  Diagnostics& diags_;
  const sig::HostTable* hosts_ = nullptr;
  std::map<std::string, DataInfo> data_;
  std::vector<std::string> data_order_;
  std::map<std::string, const ast::FnDecl*> fns_;
  std::map<std::string, Body> fn_bodies_;  // checked fn bodies, for reachability
  Body model_body_, guide_body_;
  Body* body_ = nullptr;  // the body being checked
  int next_plate_id_ = 0;
  // Expression depth guard: the parser bounds parentheses, but a chain such
  // as `1 + 1 + … + 1` nests one level per operator. Every later stage
  // (lowering, dependencies, printers) recurses over the same tree, so the
  // checker rejects what would overflow their stacks.
  static constexpr int max_expr_depth = 1000;
  int expr_depth_ = 0;
  bool depth_reported_ = false;
  // Set by check_param just before it checks an initial value that is a call:
  // a random initialiser (init_normal, …) is valid there and nowhere else.
  bool initializer_allowed_ = false;
};

}  // namespace vireo::lang::check_detail
