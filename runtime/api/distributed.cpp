// Data-parallel fits (include/vireo/distributed.hpp): this rank's share of
// the data (load_shard), and the ranks' meeting in every step of SVI
// (infer::StepExchange, over a vireo::Communicator).
//
// Why the result equals the one-process fit: rank r holds rows_r of the
// plate's N rows. Its plate's terms are scaled by N / rows_r (a subsample of
// the whole, interp::Context::Shard), so its ELBO estimates the whole data's.
// Weighted by w_r = rows_r / N and summed over the ranks, the terms outside
// the plate (global priors, the guide's entropy) count once (Σ w_r = 1) and
// the plate's terms once each (w_r · N / rows_r = 1): with the global sites
// drawn alike on every rank (the same generator; the plate draws from its
// own), the summed gradient is the one-process gradient up to the order of
// the sums. Parameters indexed by the plate (a guide's `param phi: real[N,
// K]`, an automatic guide's parameters of latent sites in the plate) are
// held by one rank only: their gradient is weighted, not summed.
#include "runtime/api/distributed.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <set>

#include "runtime/api/access.hpp"
#include "runtime/api/errors.hpp"
#include "stdlib/signatures/signature.hpp"

namespace vireo {
namespace {

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void sum(double*, std::size_t) override {}
  void gather_all(const std::uint64_t* mine, std::size_t n, std::uint64_t* out) override { std::copy(mine, mine + n, out); }
  void broadcast(std::string&, int) override {}
};

std::uint64_t fnv(std::uint64_t h, const void* bytes, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(bytes);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ULL;
  return h;
}
constexpr std::uint64_t fnv_start = 0xCBF29CE484222325ULL;

std::uint64_t hash_tensor(const ad::Tensor& t) {
  std::uint64_t h = fnv_start;
  for (std::int64_t d : t.shape()) h = fnv(h, &d, sizeof d);
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    const double x = t[i];
    h = fnv(h, &x, sizeof x);
  }
  return h;
}

[[noreturn]] void refuse_everywhere(Error::Kind kind, const std::string& message, const std::string& hint = {}) {
  api::fail(kind, message, hint);
}

// The ranks meet: each says whether it failed. When one did, every rank
// throws the first failed rank's message, prefixed with its number.
// Otherwise returns every rank's `word` (one meeting carries both).
std::vector<std::uint64_t> meet(Communicator& comm, const std::string* failure, Error::Kind kind, const std::string& what,
                                std::exception_ptr original = nullptr, std::uint64_t word = 0) {
  const std::uint64_t mine[2] = {failure ? 1u : 0u, word};
  std::vector<std::uint64_t> all(2 * static_cast<std::size_t>(comm.size()));
  comm.gather_all(mine, 2, all.data());
  int root = -1;
  std::vector<std::uint64_t> words;
  for (int r = 0; r < comm.size(); ++r) {
    if (root < 0 && all[2 * static_cast<std::size_t>(r)] == 1) root = r;
    words.push_back(all[2 * static_cast<std::size_t>(r) + 1]);
  }
  if (root < 0) return words;
  std::string text = failure ? *failure : std::string();
  comm.broadcast(text, root);
  if (comm.size() == 1 && original) std::rethrow_exception(original);  // one process: the error as it was
  const std::string head = fmt::format("rank {} of {} {}; every rank stops", root, comm.size(), what);
  Diagnostic d;
  d.message = head + ": " + text;
  throw Error("error: " + head + ":\n" + text, {d}, kind);
}

int data_ref(const ir::Body& body, ir::ExprId e) {
  const ir::Expr& x = body.expr(e);
  return x.op == ir::Op::Data ? x.ref : -1;
}

struct PlateChoice {
  std::string plate;
  int size_item = -1;
  std::vector<int> row_items;  // data items whose leading dimension is the plate's size
};

// The plate to split: `wanted`, or the outermost plate of the model whose
// size is a data item leading other data items. Throws vireo::Error.
PlateChoice choose_plate(const ir::Graph& g, const std::string& wanted) {
  const std::string file = g.name.empty() ? std::string("the model") : g.name;
  auto leading = [&](int item) {
    std::vector<int> out;
    if (g.data_body == ir::none) return out;
    const ir::Body& db = g.body(g.data_body);
    for (std::size_t i = 0; i < g.data.size(); ++i) {
      const auto& dims = g.data[i].type.dims;
      if (!dims.empty() && data_ref(db, dims[0]) == item) out.push_back(static_cast<int>(i));
    }
    return out;
  };
  const ir::Plate* chosen = nullptr;
  std::vector<std::string> names;
  for (const ir::Plate& p : g.plates) {
    if (p.body != g.model) continue;
    names.push_back(p.name);
    const int item = data_ref(g.body(p.body), p.size);
    if (!wanted.empty()) {
      if (p.name != wanted) continue;
      if (item < 0)
        refuse_everywhere(Error::Kind::Options,
                          "--shard-plate " + wanted + ": the plate's size is not a data item, so its rows cannot be split",
                          "split a plate written `plate " + wanted + "(N)` with N in the data block");
      chosen = &p;
      break;
    }
    if (p.parent == ir::none && item >= 0 && !leading(item).empty()) {
      chosen = &p;
      break;
    }
  }
  if (!chosen) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    if (!wanted.empty())
      refuse_everywhere(Error::Kind::Options, "--shard-plate " + wanted + ": the model has no plate of that name",
                        names.empty() ? "the model has no plate" : "the model's plates: " + list);
    refuse_everywhere(Error::Kind::Options,
                      "no plate to split over the ranks: no plate of the model has a size that is a data item leading "
                      "other data items (`plate data(N)` with `X: real[N, D]`)",
                      names.empty() ? "a data-parallel fit splits the rows of a plate" : "name one with --shard-plate (" + list + ")");
  }
  PlateChoice c;
  c.plate = chosen->name;
  c.size_item = data_ref(g.body(chosen->body), chosen->size);
  const ir::DataDecl& size_decl = g.data[static_cast<std::size_t>(c.size_item)];
  if (!size_decl.type.dims.empty() || size_decl.type.base != lang::ast::BaseType::Int)
    refuse_everywhere(Error::Kind::Options, "plate '" + c.plate + "': its size '" + size_decl.name + "' is not one int");
  c.row_items = leading(c.size_item);
  const ir::Body& db = g.body(g.data_body);
  for (const ir::DataDecl& d : g.data)
    for (std::size_t k = 1; k < d.type.dims.size(); ++k)
      if (data_ref(db, d.type.dims[k]) == c.size_item)
        refuse_everywhere(Error::Kind::Data,
                          fmt::format("data item '{}' has the plate's size '{}' as its dimension {}; only a leading "
                                      "dimension can be split over the ranks",
                                      d.name, size_decl.name, k + 1),
                          "store it with the plate's dimension first");
  return c;
}

// Rows [first, first + rows) of t's leading dimension.
ad::Tensor rows_of(const ad::Tensor& t, std::int64_t first, std::int64_t rows) {
  const std::int64_t n = t.shape()[0];
  const std::int64_t row = n > 0 ? t.numel() / n : 0;
  ad::Shape s = t.shape();
  s[0] = rows;
  std::vector<double> v(static_cast<std::size_t>(rows * row));
  for (std::int64_t i = 0; i < rows * row; ++i) v[static_cast<std::size_t>(i)] = t[first * row + i];
  return ad::Tensor(s, std::move(v));
}

// The meeting of the ranks inside each step of SVI.
class Exchange final : public infer::StepExchange {
 public:
  Exchange(std::shared_ptr<Communicator> comm, double weight, std::function<bool(const std::string&)> local,
           std::function<bool(const std::string&)> joint, const lang::SourceFile& source)
      : comm_(std::move(comm)), weight_(weight), local_(std::move(local)), joint_(std::move(joint)), source_(source) {}

  void agree(std::exception_ptr failure) override { meet_with(std::move(failure), 0); }

  // One rank too: a refusal stops the fit.
  std::vector<std::uint64_t> meet_with(std::exception_ptr failure, std::uint64_t word) {
    std::string text;
    if (failure) {
      try {
        api::translate_errors(source_, Error::Kind::Run, [&] { std::rethrow_exception(failure); });
      } catch (const std::exception& e) {
        text = e.what();
      }
    }
    return meet(*comm_, failure ? &text : nullptr, Error::Kind::Run, "failed in this step", nullptr, word);
  }

  double reduce(double& elbo, const std::vector<params::Entry*>& entries, std::vector<Eigen::ArrayXd>& grads) override {
    // A joint guide's vector over plate-local latent sites would differ from rank to rank.
    std::string joint;
    for (const params::Entry* e : entries)
      if (joint_(e->name)) joint = e->name;
    order_.clear();
    double local2 = 0;
    std::size_t n = 2;
    for (std::size_t k = 0; k < entries.size(); ++k) {
      if (local_(entries[k]->name)) {
        grads[k] *= weight_;
        local2 += grads[k].square().sum();
      } else {
        order_.push_back(k);
        n += static_cast<std::size_t>(grads[k].size());
      }
    }
    std::sort(order_.begin(), order_.end(), [&](std::size_t a, std::size_t b) { return entries[a]->name < entries[b]->name; });
    // Every rank must hold the same global parameters, in the same sizes.
    std::uint64_t sig = fnv_start;
    for (std::size_t k : order_) {
      sig = fnv(sig, entries[k]->name.data(), entries[k]->name.size() + 1);
      const Eigen::Index size = grads[k].size();
      sig = fnv(sig, &size, sizeof size);
    }
    // One meeting: whether a rank failed, and every rank's signature.
    const std::vector<std::uint64_t> sigs =
        joint.empty() ? meet_with(nullptr, sig)
                      : meet_with(std::make_exception_ptr(std::runtime_error(
                                      "the guide's parameter '" + joint +
                                      "' spans every latent site jointly, and some lie in the split plate: a "
                                      "data-parallel fit needs a guide per site there (--guide auto_normal or "
                                      "auto_delta, or a guide block)")),
                                  sig);
    for (std::size_t r = 1; r < sigs.size(); ++r)
      if (sigs[r] != sigs[0])
        refuse_everywhere(Error::Kind::Run,
                          fmt::format("rank {} of {} holds other parameters outside the split plate than rank 0 in this "
                                      "step; every rank stops",
                                      r, sigs.size()),
                          "a parameter used only for some rows (inside a branch on the data) must be indexed by the plate");
    buffer_.resize(n);
    buffer_[0] = weight_ * elbo;
    buffer_[1] = local2;
    std::size_t at = 2;
    for (std::size_t k : order_) {
      Eigen::Map<Eigen::ArrayXd>(buffer_.data() + at, grads[k].size()) = weight_ * grads[k];
      at += static_cast<std::size_t>(grads[k].size());
    }
    comm_->sum(buffer_.data(), buffer_.size());
    elbo = buffer_[0];
    double norm2 = buffer_[1];
    at = 2;
    for (std::size_t k : order_) {
      grads[k] = Eigen::Map<const Eigen::ArrayXd>(buffer_.data() + at, grads[k].size());
      norm2 += grads[k].square().sum();
      at += static_cast<std::size_t>(grads[k].size());
    }
    return norm2;
  }

 private:
  std::shared_ptr<Communicator> comm_;
  double weight_;
  std::function<bool(const std::string&)> local_, joint_;
  const lang::SourceFile& source_;
  std::vector<std::size_t> order_;
  std::vector<double> buffer_;
};

// A run-time site name's statement name: "z" of "z[3]" or "z#2".
std::string statement_name(const std::string& name) { return name.substr(0, name.find_first_of("[#")); }

}  // namespace

void agree(Communicator& comm, const std::function<void()>& body) {
  std::string failure;
  Error::Kind kind = Error::Kind::Run;
  std::exception_ptr original;
  try {
    body();
  } catch (const Error& e) {
    failure = e.what();
    kind = e.kind();
    original = std::current_exception();
  }
  // Every rank learns the failed rank's kind too: its first word after the flag.
  std::uint64_t k = static_cast<std::uint64_t>(kind);
  std::vector<std::uint64_t> kinds(static_cast<std::size_t>(comm.size()));
  comm.gather_all(&k, 1, kinds.data());
  std::vector<std::uint64_t> flags(static_cast<std::size_t>(comm.size()));
  const std::uint64_t mine = failure.empty() ? 0 : 1;
  comm.gather_all(&mine, 1, flags.data());
  const auto it = std::find(flags.begin(), flags.end(), std::uint64_t{1});
  if (it == flags.end()) return;
  const int root = static_cast<int>(it - flags.begin());
  comm.broadcast(failure, root);
  if (comm.size() == 1) std::rethrow_exception(original);  // one process: the error as it was
  Diagnostic d;
  d.message = fmt::format("rank {} of {} failed: {}", root, comm.size(), failure);
  throw Error(fmt::format("error: rank {} of {} failed; every rank stops:\n{}", root, comm.size(), failure), {d},
              static_cast<Error::Kind>(kinds[static_cast<std::size_t>(root)]));
}

std::shared_ptr<Communicator> single_process() { return std::make_shared<SingleProcess>(); }

bool built_with_mpi() {
#ifdef VIREO_WITH_MPI
  return true;
#else
  return false;
#endif
}

namespace {

// load_shard and shard_from_arrays: `load` reads this rank's data (named
// `mine` in messages); per_rank: it holds this rank's rows only, else all rows.
Data make_shard(const Model& model, const std::string& mine, bool per_rank, const std::function<Data()>& load,
                const std::shared_ptr<Communicator>& comm, const ShardOptions& options) {
  if (!comm)
    api::fail(Error::Kind::Usage, "a data-parallel fit's data need a communicator",
              "pass vireo::single_process(), or vireo::mpi::communicator(MPI_COMM_WORLD) from vireo/mpi.hpp");
  const detail::ModelImpl& m = detail::Access::impl(model);
  const int rank = comm->rank(), ranks = comm->size();

  // 1. Every rank loads; a rank that fails stops every rank.
  std::optional<Data> loaded;
  PlateChoice choice;
  std::string failure;
  std::exception_ptr original;
  try {
    choice = choose_plate(m.graph, options.plate);
    loaded.emplace(load());
  } catch (const Error& e) {
    failure = e.what();
    original = std::current_exception();
  }
  meet(*comm, failure.empty() ? nullptr : &failure, Error::Kind::Data, "could not load its share of the data (" + mine + ")",
       original);
  const detail::DataImpl& whole = detail::Access::impl(*loaded);
  interp::DataSet set = whole.set;
  const std::size_t k = static_cast<std::size_t>(choice.size_item);
  const std::int64_t n = static_cast<std::int64_t>(set.values[k][0]);

  // 2. This rank's rows: its file's, or its share of the one file's.
  std::int64_t rows = n, first = 0;
  if (!per_rank) {
    rows = n / ranks + (rank < n % ranks ? 1 : 0);
    first = rank * (n / ranks) + std::min<std::int64_t>(rank, n % ranks);
    for (int item : choice.row_items) {
      auto& t = set.values[static_cast<std::size_t>(item)];
      t = rows_of(t, first, rows);
    }
    set.values[k][0] = static_cast<double>(rows);
  }

  // 3. The shards must agree on every item outside the plate, and each hold rows.
  std::vector<std::uint64_t> words{static_cast<std::uint64_t>(rows)};
  std::set<int> split(choice.row_items.begin(), choice.row_items.end());
  split.insert(choice.size_item);
  for (std::size_t i = 0; i < set.values.size(); ++i)
    words.push_back(split.count(static_cast<int>(i)) ? 0 : hash_tensor(set.values[i]));
  std::vector<std::uint64_t> all(words.size() * static_cast<std::size_t>(ranks));
  comm->gather_all(words.data(), words.size(), all.data());
  std::int64_t total = 0;
  for (int r = 0; r < ranks; ++r) {
    const std::uint64_t* w = all.data() + static_cast<std::size_t>(r) * words.size();
    if (w[0] == 0)
      refuse_everywhere(Error::Kind::Data,
                        fmt::format("rank {} of {} holds no rows of plate '{}' ({} = 0)", r, ranks, choice.plate,
                                    m.graph.data[k].name),
                        per_rank ? "give every rank's file some rows" : "run on fewer ranks than there are rows");
    for (std::size_t i = 0; i < set.values.size(); ++i)
      if (w[1 + i] != all[1 + i])
        refuse_everywhere(Error::Kind::Data,
                          fmt::format("the shards disagree: data item '{}' of rank {} differs from rank 0's; every item "
                                      "outside plate '{}' must be the same on every rank",
                                      m.graph.data[i].name, r, choice.plate),
                          "give each rank's file the same shared items (only the plate's rows and its size differ)");
    if (per_rank && r < rank) first += static_cast<std::int64_t>(w[0]);
    total += static_cast<std::int64_t>(w[0]);
  }

  auto impl = std::make_unique<detail::DataImpl>();
  impl->model = whole.model;
  impl->name = whole.name;
  impl->set = std::move(set);
  impl->warnings = whole.warnings;
  impl->rendered_warnings = whole.rendered_warnings;
  impl->shard = detail::DataImpl::Sharding{comm, ShardInfo{choice.plate, rank, ranks, first, rows, total}, choice.size_item};
  return detail::Access::make_data(std::move(impl));
}

}  // namespace

Data load_shard(const Model& model, const std::string& path, std::shared_ptr<Communicator> comm,
                const ShardOptions& options) {
  std::string mine = path;
  if (comm)
    for (std::size_t at; (at = mine.find("{rank}")) != std::string::npos;) mine.replace(at, 6, std::to_string(comm->rank()));
  return make_shard(model, mine, path.find("{rank}") != std::string::npos,
                    [&] { return Data::from_json_file(model, mine); }, comm, options);
}

Data shard_from_arrays(const Model& model, const std::map<std::string, Array>& arrays, std::shared_ptr<Communicator> comm,
                       const ShardOptions& options) {
  return make_shard(model, "<arrays>", true, [&] { return Data::from_arrays(model, arrays); }, comm, options);
}

ShardInfo shard_info(const Data& data) {
  const auto& s = detail::Access::impl(data).shard;
  return s ? s->info : ShardInfo{};
}

void api::make_distributed(detail::FitImpl& f, const detail::DataImpl::Sharding& shard) {
  const ir::Graph& g = f.model->graph;
  const ShardInfo& info = shard.info;
  if (f.options.clip_value > 0)
    fail(Error::Kind::Options,
         "--clip-value would clip each rank's share of the gradient, not the whole: not available in a data-parallel fit",
         "use --clip-grad-norm, which applies to the whole gradient");
  f.ctx->set_shard(interp::Context::Shard{info.plate, info.total, static_cast<std::uint64_t>(info.rank)});
  // Parameters indexed by the plate: `param` statements whose leading
  // dimension is the plate's size, and an automatic guide's parameters of the
  // latent sites inside the plate.
  std::set<std::string> local_params, plate_sites;
  bool continuous_in_plate = false;
  for (const ir::Site& s : g.sites) {
    if (s.kind == ir::SiteKind::Param && !s.type.dims.empty() && data_ref(g.body(s.body), s.type.dims[0]) == shard.size_item)
      local_params.insert(s.name);
    if (s.kind == ir::SiteKind::Sample && s.body != g.guide &&
        std::any_of(s.plates.begin(), s.plates.end(), [&](ir::PlateId p) { return g.plate(p).name == info.plate; })) {
      plate_sites.insert(s.name);
      if (s.dist != sig::no_builtin && !sig::get(s.dist).discrete) continuous_in_plate = true;
    }
  }
  // Rank 0 draws, summarises and writes: the split plate's own sites and
  // parameters there are those of its rows alone. Said, not left to be found.
  if (info.ranks > 1 && (!plate_sites.empty() || !local_params.empty())) {
    std::set<std::string> names(plate_sites);
    names.insert(local_params.begin(), local_params.end());
    f.shard_note = fmt::format(
        "note: data-parallel over {} ranks: the draws, the summary, the report and saved parameters hold the "
        "sites and parameters of plate '{}' ({}) for rank 0's rows 0-{} only, of {}; each rank fitted its own rows, "
        "and the global sites are the whole fit's",
        info.ranks, info.plate, fmt::join(names, ", "), info.rows - 1, info.total);
  }
  guide::Guide* guide = f.guide.get();
  auto local = [guide, local_params, plate_sites](const std::string& name) {
    if (local_params.count(name)) return true;
    const std::optional<guide::ParamRole> role = guide->parameter_role(name);
    return role && !role->site.empty() && plate_sites.count(statement_name(role->site)) > 0;
  };
  auto joint = [guide, continuous_in_plate](const std::string& name) {
    if (!continuous_in_plate) return false;
    const std::optional<guide::ParamRole> role = guide->parameter_role(name);
    return role && role->site.empty();
  };
  f.exchange = std::make_unique<Exchange>(shard.comm, static_cast<double>(info.rows) / static_cast<double>(info.total),
                                          local, joint, f.model->source);
}

}  // namespace vireo
