#include "runtime/value/value.hpp"

#include <algorithm>

namespace vireo::interp {

int PlateOrder::depth(ir::PlateId p) const {
  int d = 0;
  for (ir::PlateId q = graph->plate(p).parent; q != ir::none; q = graph->plate(q).parent) ++d;
  return d;
}

bool PlateOrder::before(ir::PlateId a, ir::PlateId b) const {
  int da = depth(a), db = depth(b);
  return da != db ? da < db : a < b;
}

PlateList union_plates(const PlateOrder& order, std::initializer_list<const Value*> values) {
  PlateList out;
  for (const Value* v : values)
    for (ir::PlateId p : v->plates)
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  std::sort(out.begin(), out.end(), [&](ir::PlateId a, ir::PlateId b) { return order.before(a, b); });
  return out;
}

ad::Var align(const Value& v, const PlateList& plates, int event_rank) {
  if (v.plain()) return v.var;
  if (v.plates == plates && v.event_rank() == event_rank) return v.var;
  const ad::Shape& s = v.var.shape();
  ad::Shape out;
  std::size_t k = 0;  // position in v.plates
  for (ir::PlateId p : plates) {
    if (k < v.plates.size() && v.plates[k] == p) {
      out.push_back(s[static_cast<int>(k)]);
      ++k;
    } else {
      out.push_back(1);
    }
  }
  int own_event = v.event_rank();
  for (int i = own_event; i < event_rank; ++i) out.push_back(1);
  for (int i = static_cast<int>(v.plates.size()); i < s.rank(); ++i) out.push_back(s[i]);
  return ad::reshape(v.var, out);
}

Kind arithmetic_kind(Kind a, Kind b) {
  bool ia = a != Kind::Real, ib = b != Kind::Real;
  return ia && ib ? Kind::Int : Kind::Real;
}

}  // namespace vireo::interp
