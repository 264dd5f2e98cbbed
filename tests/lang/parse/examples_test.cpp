// Every program in examples/ (the contracts of LANGUAGE.md) parses with no diagnostics.
#include <boost/test/unit_test.hpp>

#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace vireo;

BOOST_AUTO_TEST_CASE(every_example_parses_clean) {
  const fs::path dir = fs::path(VIREO_SOURCE_DIR) / "examples";
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".vireo") continue;
    ++count;
    lang::SourceFile file(entry.path().filename().string(), test::read_file(entry.path()));
    lang::Diagnostics diags;
    lang::ast::Program p = lang::parse(file, diags);
    BOOST_TEST(diags.all().empty(), file.name() << ":\n" << diags.render(file));
    BOOST_TEST(!p.items.empty(), file.name() << " has no items");
  }
  BOOST_TEST(count >= 7);
}

namespace {

// Every node of the examples has a non-empty span inside the file (the
// checker and the IR report locations from them).
struct SpanCheck {
  std::size_t size;
  int nodes = 0;
  void span(lang::Span s, const char* what) {
    ++nodes;
    BOOST_TEST((s.begin < s.end && s.end <= size), what << " span [" << s.begin << ", " << s.end << ")");
  }
  void expr(const lang::ast::Expr& e) {
    namespace ast = lang::ast;
    span(e.span, "expression");
    if (auto* u = std::get_if<ast::Unary>(&e.node)) expr(*u->operand);
    if (auto* b = std::get_if<ast::Binary>(&e.node)) expr(*b->lhs), expr(*b->rhs), span(b->op_span, "operator");
    if (auto* c = std::get_if<ast::Call>(&e.node)) {
      span(c->callee_span, "callee");
      for (const auto& a : c->args) expr(*a.value);
    }
    if (auto* ix = std::get_if<ast::Index>(&e.node)) {
      expr(*ix->base);
      for (const auto& s : ix->subscripts) {
        span(s.span, "subscript");
        for (const auto* part : {&s.index, &s.lo, &s.hi})
          if (*part) expr(***part);
      }
    }
    if (auto* v = std::get_if<ast::VectorLit>(&e.node))
      for (const auto& x : v->elements) expr(x);
  }
  void type(const lang::ast::TypeExpr& t) {
    span(t.span, "type");
    for (const auto& d : t.dims) expr(d);
  }
  void block(const lang::ast::Block& b) {
    for (const auto& s : b) stmt(s);
  }
  void stmt(const lang::ast::Stmt& s) {
    namespace ast = lang::ast;
    span(s.span, "statement");
    std::visit(
        [&](const auto& n) {
          using T = std::decay_t<decltype(n)>;
          if constexpr (std::is_same_v<T, ast::SampleStmt>) {
            span(n.name_span, "site name");
            if (n.type) type(*n.type);
            expr(n.dist);
          } else if constexpr (std::is_same_v<T, ast::ObserveStmt>) {
            expr(n.target), expr(n.dist);
          } else if constexpr (std::is_same_v<T, ast::LetStmt> || std::is_same_v<T, ast::AssignStmt> ||
                               std::is_same_v<T, ast::DeterministicStmt> || std::is_same_v<T, ast::FactorStmt>) {
            span(n.name_span, "name"), expr(n.value);
          } else if constexpr (std::is_same_v<T, ast::ParamStmt>) {
            span(n.name_span, "name"), type(n.type), expr(n.init);
          } else if constexpr (std::is_same_v<T, ast::PlateStmt>) {
            span(n.name_span, "plate name"), expr(n.size), block(n.body);
          } else if constexpr (std::is_same_v<T, ast::ForStmt>) {
            span(n.var_span, "loop variable"), expr(n.lo), expr(n.hi), block(n.body);
          } else if constexpr (std::is_same_v<T, ast::IfStmt>) {
            expr(n.cond), block(n.then_body);
            if (n.else_body) block(*n.else_body);
          } else if constexpr (std::is_same_v<T, ast::ReturnStmt>) {
            expr(n.value);
          } else if constexpr (std::is_same_v<T, ast::ScaleStmt>) {
            expr(n.weight), block(n.body);
          }
        },
        s.node);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(every_node_of_the_examples_has_a_span) {
  for (const auto& entry : fs::directory_iterator(fs::path(VIREO_SOURCE_DIR) / "examples")) {
    if (entry.path().extension() != ".vireo") continue;
    lang::SourceFile file(entry.path().filename().string(), test::read_file(entry.path()));
    lang::Diagnostics diags;
    lang::ast::Program p = lang::parse(file, diags);
    BOOST_TEST_CONTEXT(file.name()) {
      SpanCheck check{file.text().size()};
      for (const auto& item : p.items) {
        std::visit(
            [&](const auto& it) {
              using T = std::decay_t<decltype(it)>;
              check.span(it.span, "item");
              if constexpr (std::is_same_v<T, lang::ast::DataBlock>) {
                for (const auto& d : it.decls) check.span(d.span, "data item"), check.type(d.type);
              } else if constexpr (std::is_same_v<T, lang::ast::FnDecl>) {
                check.span(it.name_span, "function name");
                check.block(it.body);
              } else {
                check.block(it.body);
              }
            },
            item);
      }
      BOOST_TEST(check.nodes > 10);
    }
  }
}
