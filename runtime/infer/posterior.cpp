#include "runtime/infer/posterior.hpp"

#include "runtime/handlers/replay.hpp"
#include "runtime/handlers/trace.hpp"
#include "runtime/interp/interpreter.hpp"

namespace vireo::infer {

using handlers::MsgType;

PosteriorDraw draw_posterior(interp::Context& ctx, guide::Guide& guide, bool predictive) {
  ctx.begin_step();
  handlers::Trace guide_trace;
  {
    handlers::TraceHandler trace(guide_trace);
    handlers::HandlerStack::Scoped s(ctx.handlers(), trace);
    guide.run(ctx);
  }
  return replay_draw(ctx, guide_trace, predictive);
}

PosteriorDraw replay_draw(interp::Context& ctx, const handlers::Trace& guide_trace, bool predictive,
                          handlers::Handler* settle) {
  handlers::Trace model_trace;
  {
    // Outermost first: the trace sees the final messages; replay (and
    // `settle`) give the latent sites their values before the predictive
    // handler frees the observed ones.
    handlers::TraceHandler trace(model_trace);
    PredictiveHandler predict;
    handlers::ReplayHandler replay(guide_trace);
    handlers::HandlerStack::Scoped s1(ctx.handlers(), trace);
    std::optional<handlers::HandlerStack::Scoped> s2, s3;
    if (predictive) s2.emplace(ctx.handlers(), predict);
    if (settle) s3.emplace(ctx.handlers(), *settle);
    handlers::HandlerStack::Scoped s4(ctx.handlers(), replay);
    interp::Interpreter(ctx).run(ctx.graph().model);
  }
  return read_draw(model_trace, predictive);
}

PosteriorDraw read_draw(const handlers::Trace& model_trace, bool predictive) {
  PosteriorDraw out;
  for (const auto& s : model_trace.sites()) {
    const handlers::Message& m = s.msg;
    SiteDraw d;
    d.name = m.name;
    if (m.type == MsgType::Deterministic) {
      d.kind = SiteDraw::Kind::Deterministic;
    } else if (m.type == MsgType::Sample && !m.is_observed) {
      bool was_observed = m.site && m.site->kind == ir::SiteKind::Observe;
      if (was_observed && !predictive) continue;
      d.kind = was_observed ? SiteDraw::Kind::Predicted : SiteDraw::Kind::Latent;
    } else {
      continue;
    }
    d.value = m.value.var.value();
    d.discrete = m.type == MsgType::Sample && m.fn && m.fn->is_discrete();
    out.sites.push_back(std::move(d));
  }
  return out;
}

}  // namespace vireo::infer
