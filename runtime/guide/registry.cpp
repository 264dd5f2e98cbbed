// The guide registry: one row per guide — its name, how to make it, and the
// fit options it brings (guide.hpp, GuideKind). make_guide and the fit's
// defaults (runtime/api/fit.cpp) both read it, so a guide added here has both.
#include <stdexcept>

#include "runtime/guide/auto_realnvp.hpp"
#include "runtime/guide/auto_vector.hpp"
#include "runtime/guide/guide.hpp"

namespace vireo::guide {
namespace {

// The defaults' rows, with why (README.md, "Defaults per guide"):
// sticking the landing's gradient vanishes where q is the posterior, and the
// mean of the last tenth of the iterates settles the jitter a constant rate
// leaves; the joint Gaussians also decay their rate once the ELBO stops
// rising (plateau:100), and the flow needs several draws per step.
//                                   estimator   lr    init_scale lr_schedule    particles average_last
constexpr FitDefaults diagonal_defaults{"stl",      0.05, 0.1,       "",            1,        0.1};
constexpr FitDefaults joint_defaults{"stl",         0.01, 1.0,       "plateau:100", 1,        0.1};
constexpr FitDefaults flow_defaults{"stl",          0.01, 0.1,       "",            8,        0.1};
constexpr FitDefaults plain_defaults{"standard",    0.01, 0.1,       "",            1,        0.1};

template <class G>
std::unique_ptr<Guide> make(const GuideOptions& o, const ir::Graph& graph) {
  return std::make_unique<G>(graph, o);
}

std::unique_ptr<Guide> make_lowrank(const GuideOptions& o, const ir::Graph& graph) {
  if (o.rank < 0) throw std::invalid_argument("auto_lowrank_mvn: the rank must be positive (or 0 for about sqrt of the dimension)");
  return std::make_unique<AutoLowRankMultivariateNormal>(graph, o);
}

std::unique_ptr<Guide> make_custom(const GuideOptions&, const ir::Graph& graph) {
  if (graph.guide == ir::none)
    throw std::invalid_argument("--guide custom: the file has no guide block; choose an automatic guide such as auto_normal");
  return std::make_unique<CustomGuide>(graph);
}

}  // namespace

const std::vector<GuideKind>& guide_kinds() {
  static const std::vector<GuideKind> kinds = {
      {"auto_normal", make<AutoNormal>, diagonal_defaults},
      {"auto_diagonal_normal", make<AutoDiagonalNormal>, diagonal_defaults},
      {"auto_mvn", make<AutoMultivariateNormal>, joint_defaults},
      {"auto_lowrank_mvn", make_lowrank, joint_defaults},
      {"auto_realnvp", make<AutoRealNvp>, flow_defaults},
      {"auto_delta", make<AutoDelta>, plain_defaults},
      {"custom", make_custom, plain_defaults},
  };
  return kinds;
}

const GuideKind* find_guide_kind(const std::string& name) {
  for (const GuideKind& k : guide_kinds())
    if (name == k.name) return &k;
  return nullptr;
}

std::string guide_names() {
  const std::vector<GuideKind>& kinds = guide_kinds();
  std::string out;
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    if (i > 0) out += i + 1 == kinds.size() ? " or " : ", ";
    out += kinds[i].name;
  }
  return out;
}

std::unique_ptr<Guide> make_guide(const GuideOptions& o, const ir::Graph& graph) {
  const GuideKind* kind = find_guide_kind(o.kind);
  if (!kind) throw std::invalid_argument("unknown guide '" + o.kind + "'; choose " + guide_names());
  return kind->make(o, graph);
}

}  // namespace vireo::guide
