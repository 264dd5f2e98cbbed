// Effect handlers and the stack that applies them (Pyro's apply_stack).
// A handler sees every message twice: process() on the way in, innermost
// (most recently pushed) first, until one sets msg.stop; then the default
// behaviour draws the value unless msg.done or a value is set; then
// postprocess() on the way out, outermost of the visited handlers first.
// Handlers are pushed for a scope with HandlerStack::Scoped, so any order of
// composition works and nothing is left on the stack after an exception.
#pragma once
#include <vector>

#include "runtime/handlers/message.hpp"

namespace vireo::handlers {

class Handler {
 public:
  virtual ~Handler() = default;
  virtual void process(Message&) {}
  virtual void postprocess(Message&) {}
};

class HandlerStack {
 public:
  void push(Handler* h) { stack_.push_back(h); }
  void pop() { stack_.pop_back(); }
  std::size_t depth() const { return stack_.size(); }

  // Sends `msg` through the stack and the default behaviour.
  void apply(Message& msg) const;

  // Keeps `h` on the stack for the life of this object.
  class Scoped {
   public:
    Scoped(HandlerStack& s, Handler& h) : s_(s) { s_.push(&h); }
    ~Scoped() { s_.pop(); }
    Scoped(const Scoped&) = delete;
    Scoped& operator=(const Scoped&) = delete;

   private:
    HandlerStack& s_;
  };

 private:
  std::vector<Handler*> stack_;
};

// The default behaviour for a message no handler has settled: a latent
// sample site draws from msg.fn with msg.rng — rsample when the family is
// reparameterisable, so gradients flow through the value — and a subsample
// site draws its indices without replacement.
void default_process(Message& msg);

}  // namespace vireo::handlers
