// Copyright 2026 The dws_jax Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Fused multi-head set attention for XLA:CPU, as XLA FFI custom calls.
//
// DWSNet's set attention blocks have many heads of width 2 to 32 over sets of
// a few dozen elements. XLA:CPU materialises the (n, n) weights of every head
// several times per step and runs bandwidth-bound passes over them; here one
// head's whole problem stays in L1 and the weights are never stored.
//
// One call serves several "members" (the attention of several set layers):
// per member, row-major float32 arrays
//   q, k, v, o: (batch..., n, heads, d)   (queries already scaled)
//   stats:      (batch..., heads, 2, n)   per query: m_i, 1 / s_i
// with batch, n and d shared by all members (heads may differ). Arguments are
// passed role by role: q of every member, then k of every member, ...
//
//   m_i = max_j q_i . k_j,  s_i = sum_j exp(q_i . k_j - m_i)
//   o_i = sum_j p_ij v_j,   p_ij = exp(q_i . k_j - m_i) / s_i
//
// Backward (given do = dL/do), p recomputed from the stats:
//   ds_ij = p_ij (do_i . v_j - do_i . o_i)
//   dq_i  = sum_j ds_ij k_j,  dk_j = sum_i ds_ij q_i,  dv_j = sum_i p_ij do_i
//
// Work is split over (member, block of heads, batch row), in that order so
// that a thread streams through one member's arrays, and run on XLA's
// intra-op thread pool. Queries (forward, dq) or keys (dk, dv) are the 16
// vector lanes, so no loop needs a horizontal reduction.

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "simd.h"
#include "xla/ffi/api/ffi.h"

namespace {

using namespace dws_jax_native;  // NOLINT(build/namespaces)

struct Dims {
  int64_t batch;  // product of the leading axes
  int64_t n;      // set size
  int64_t heads;  // of one member
  int64_t d;      // head width
};

// Shape (batch..., n, heads, d) of one member; all members share batch, n, d.
ffi::Error ReadDims(const ffi::AnyBuffer& x, Dims* dims) {
  auto shape = x.dimensions();
  if (shape.size() < 3) {
    return ffi::Error::InvalidArgument(
        "set attention: inputs must have shape (batch..., n, heads, d)");
  }
  if (x.element_type() != ffi::DataType::F32) {
    return ffi::Error::InvalidArgument("set attention: inputs must be float32");
  }
  size_t r = shape.size();
  dims->n = shape[r - 3];
  dims->heads = shape[r - 2];
  dims->d = shape[r - 1];
  dims->batch = 1;
  for (size_t i = 0; i + 3 < r; ++i) dims->batch *= shape[i];
  if (!((dims->d >= 1 && dims->d <= 8) || dims->d == 16 || dims->d == 32)) {
    return ffi::Error::InvalidArgument(
        "set attention: head width must be 1 to 8, 16 or 32");
  }
  return ffi::Error::Success();
}


// Scratch of a block of heads of one batch row: per tensor and head, d rows
// of `stride` floats (the set axis, zero-padded to a multiple of kLanes), and
// per head three extra rows of one value per set element.
class Scratch {
 public:
  Scratch(int64_t tensors, int64_t n, int64_t d, int64_t block)
      : stride_((n + kLanes - 1) / kLanes * kLanes),
        d_(d),
        block_(block),
        extra_(tensors * block * d * stride_),
        lanes_(extra_ + 3 * block * stride_),
        n_(n),
        data_(lanes_ + 3 * n * kLanes, 0.0f) {}
  int64_t stride() const { return stride_; }
  // Row c of head h (within the block) of tensor t.
  float* row(int64_t t, int64_t h, int64_t c) {
    return &data_[((t * block_ + h) * d_ + c) * stride_];
  }
  float* extra(int64_t h, int64_t e) {
    return &data_[extra_ + (3 * h + e) * stride_];
  }
  // Three buffers of n vectors (one per set element) for the wide kernels.
  float* lanes(int64_t e) { return &data_[lanes_ + e * n_ * kLanes]; }

 private:
  int64_t stride_, d_, block_, extra_, lanes_, n_;
  std::vector<float> data_;
};

// Heads per block: at most 64 floats are copied per set element.
int64_t BlockHeads(int64_t d) { return std::max<int64_t>(1, 64 / d); }

// Runs tile(j0, nj, u0, nu) over the 16 x 16 tiles of an n x width block:
// set elements [j0, j0 + nj) by columns [u0, u0 + nu).
template <typename Tile>
inline void ForEachTile(int64_t n, int64_t width, Tile tile) {
  for (int64_t j0 = 0; j0 < n; j0 += kLanes) {
    for (int64_t u0 = 0; u0 < width; u0 += kLanes) {
      tile(j0, std::min(kLanes, n - j0), u0, std::min(kLanes, width - u0));
    }
  }
}

// Copies heads [h0, h0 + hb) of batch row b of x (batch, n, heads, d) into
// tensor t of the scratch (a transpose: set elements become contiguous), in
// 16 x 16 tiles transposed in registers.
inline void Gather(const float* x, const Dims& s, int64_t b, int64_t h0,
                   int64_t hb, Scratch& sc, int64_t t) {
  float* out = sc.row(t, 0, 0);
  const int64_t stride = sc.stride(), pitch = s.heads * s.d;
  const float* in = x + (b * s.n * s.heads + h0) * s.d;
  ForEachTile(s.n, hb * s.d, [&](int64_t j0, int64_t nj, int64_t u0,
                                 int64_t nu) {
    V tile[kLanes];
    for (int64_t r = 0; r < kLanes; ++r) {
      tile[r] = r < nj ? LoadPartial(in + (j0 + r) * pitch + u0, nu)
                       : Splat(0.0f);
    }
    Transpose(tile);
    for (int64_t c = 0; c < nu; ++c) Store(out + (u0 + c) * stride + j0, tile[c]);
  });
}

// The inverse of Gather: tensor t of the scratch into heads [h0, h0 + hb)
// of batch row b of x.
inline void Scatter(Scratch& sc, int64_t t, const Dims& s, int64_t b,
                    int64_t h0, int64_t hb, float* x) {
  const float* in = sc.row(t, 0, 0);
  const int64_t stride = sc.stride(), pitch = s.heads * s.d;
  float* out = x + (b * s.n * s.heads + h0) * s.d;
  ForEachTile(s.n, hb * s.d, [&](int64_t j0, int64_t nj, int64_t u0,
                                 int64_t nu) {
    V tile[kLanes];
    for (int64_t c = 0; c < kLanes; ++c) {
      tile[c] = c < nu ? Load(in + (u0 + c) * stride + j0) : Splat(0.0f);
    }
    Transpose(tile);
    for (int64_t r = 0; r < nj; ++r) {
      StorePartial(out + (j0 + r) * pitch + u0, tile[r], nu);
    }
  });
}

// Forward of one problem; scratch tensors 0..3 are q, k, v, o.
template <int D>
void ForwardProblem(Scratch& sc, int64_t h, int64_t n) {
  const int64_t stride = sc.stride();
  const float* k[D];
  const float* v[D];
  for (int c = 0; c < D; ++c) {
    k[c] = sc.row(1, h, c);
    v[c] = sc.row(2, h, c);
  }
  for (int64_t i0 = 0; i0 < stride; i0 += kLanes) {
    V q[D];
    for (int c = 0; c < D; ++c) q[c] = Load(sc.row(0, h, c) + i0);
    V m = Splat(-INFINITY);
    for (int64_t j = 0; j < n; ++j) {
      V l = q[0] * k[0][j];
      for (int c = 1; c < D; ++c) l += q[c] * k[c][j];
      m = Max(m, l);
    }
    V total = Splat(0.0f);
    V acc[D];
    for (int c = 0; c < D; ++c) acc[c] = Splat(0.0f);
    for (int64_t j = 0; j < n; ++j) {
      V l = q[0] * k[0][j];
      for (int c = 1; c < D; ++c) l += q[c] * k[c][j];
      V e = Exp(l - m);
      total += e;
      for (int c = 0; c < D; ++c) acc[c] += e * v[c][j];
    }
    V inv = 1.0f / total;
    for (int c = 0; c < D; ++c) Store(sc.row(3, h, c) + i0, acc[c] * inv);
    Store(sc.extra(h, 0) + i0, m);
    Store(sc.extra(h, 1) + i0, inv);
  }
}

// The rows of one head for a backward pass (scratch tensors 0, 1, 2, 4: q,
// k, v, g), its statistics, and delta_i = g_i . o_i of every query, which
// the constructor computes into extra row 2.
template <int D>
struct BackwardRows {
  const float* q[D];
  const float* k[D];
  const float* v[D];
  const float* g[D];
  const float* rmax;
  const float* rinv;
  const float* delta;

  BackwardRows(Scratch& sc, int64_t h)
      : rmax(sc.extra(h, 0)), rinv(sc.extra(h, 1)), delta(sc.extra(h, 2)) {
    for (int c = 0; c < D; ++c) {
      q[c] = sc.row(0, h, c);
      k[c] = sc.row(1, h, c);
      v[c] = sc.row(2, h, c);
      g[c] = sc.row(4, h, c);
    }
    float* out = sc.extra(h, 2);
    for (int64_t i0 = 0; i0 < sc.stride(); i0 += kLanes) {
      V acc = Splat(0.0f);
      for (int c = 0; c < D; ++c) {
        acc += Load(g[c] + i0) * Load(sc.row(3, h, c) + i0);
      }
      Store(out + i0, acc);
    }
  }
};

// Backward of one problem; scratch tensors 0..4 are q, k, v, o, g (inputs)
// and 5..7 are dq, dk, dv (outputs); extra rows 0..2 hold the row maximum
// m, 1 / sum exp(l - m) and delta = g . o of each query.
template <int D>
void BackwardProblem(Scratch& sc, int64_t h, int64_t n) {
  const int64_t stride = sc.stride();
  const BackwardRows<D> rows(sc, h);
  const auto &q = rows.q, &k = rows.k, &v = rows.v, &g = rows.g;
  const float *rmax = rows.rmax, *rinv = rows.rinv, *delta = rows.delta;
  // dq, vectorised over queries.
  for (int64_t i0 = 0; i0 < stride; i0 += kLanes) {
    V qi[D], gi[D], dq[D];
    for (int c = 0; c < D; ++c) {
      qi[c] = Load(q[c] + i0);
      gi[c] = Load(g[c] + i0);
      dq[c] = Splat(0.0f);
    }
    const V shift = Load(rmax + i0), scale = Load(rinv + i0);
    const V di = Load(delta + i0);
    for (int64_t j = 0; j < n; ++j) {
      V l = qi[0] * k[0][j], dp = gi[0] * v[0][j];
      for (int c = 1; c < D; ++c) {
        l += qi[c] * k[c][j];
        dp += gi[c] * v[c][j];
      }
      V ds = Exp(l - shift) * scale * (dp - di);
      for (int c = 0; c < D; ++c) dq[c] += ds * k[c][j];
    }
    for (int c = 0; c < D; ++c) Store(sc.row(5, h, c) + i0, dq[c]);
  }
  // dk and dv, vectorised over keys.
  for (int64_t j0 = 0; j0 < stride; j0 += kLanes) {
    V kj[D], vj[D], dk[D], dv[D];
    for (int c = 0; c < D; ++c) {
      kj[c] = Load(k[c] + j0);
      vj[c] = Load(v[c] + j0);
      dk[c] = Splat(0.0f);
      dv[c] = Splat(0.0f);
    }
    for (int64_t i = 0; i < n; ++i) {
      V l = kj[0] * q[0][i], dp = vj[0] * g[0][i];
      for (int c = 1; c < D; ++c) {
        l += kj[c] * q[c][i];
        dp += vj[c] * g[c][i];
      }
      V p = Exp(l - rmax[i]) * rinv[i];
      V ds = p * (dp - delta[i]);
      for (int c = 0; c < D; ++c) {
        dk[c] += ds * q[c][i];
        dv[c] += p * g[c][i];
      }
    }
    for (int c = 0; c < D; ++c) {
      Store(sc.row(6, h, c) + j0, dk[c]);
      Store(sc.row(7, h, c) + j0, dv[c]);
    }
  }
}

// Heads wider than 4 would spill registers in the kernels above: these keep
// one vector of logits, probabilities or their cotangents per set element in
// L1 and contract them with four rows at a time.

// sum_c x[c] * w[c][j] (x: D vectors, w: D rows).
template <int D>
inline V Dot(const V* x, const float* const* w, int64_t j) {
  V acc = x[0] * w[0][j];
  for (int c = 1; c < D; ++c) acc += x[c] * w[c][j];
  return acc;
}

// out[c] = sum_j coef[j] * w[c][j] for c < D (coef: n vectors at `coef`).
template <int D>
inline void Contract(const float* coef, const float* const* w, int64_t n,
                     V* out) {
  for (int c0 = 0; c0 < D; c0 += 4) {
    V a[4] = {Splat(0.0f), Splat(0.0f), Splat(0.0f), Splat(0.0f)};
    for (int64_t j = 0; j < n; ++j) {
      const V e = Load(coef + j * kLanes);
      for (int t = 0; t < 4; ++t) {
        if (c0 + t < D) a[t] += e * w[c0 + t][j];
      }
    }
    for (int t = 0; t < 4; ++t) {
      if (c0 + t < D) out[c0 + t] = a[t];
    }
  }
}

template <int D>
void ForwardProblemWide(Scratch& sc, int64_t h, int64_t n) {
  const float* k[D];
  const float* v[D];
  for (int c = 0; c < D; ++c) {
    k[c] = sc.row(1, h, c);
    v[c] = sc.row(2, h, c);
  }
  float* e = sc.lanes(0);
  for (int64_t i0 = 0; i0 < sc.stride(); i0 += kLanes) {
    V q[D];
    for (int c = 0; c < D; ++c) q[c] = Load(sc.row(0, h, c) + i0);
    V m = Splat(-INFINITY);
    for (int64_t j = 0; j < n; ++j) {
      const V l = Dot<D>(q, k, j);
      Store(e + j * kLanes, l);
      m = Max(m, l);
    }
    V total = Splat(0.0f);
    for (int64_t j = 0; j < n; ++j) {
      const V p = Exp(Load(e + j * kLanes) - m);
      Store(e + j * kLanes, p);
      total += p;
    }
    V acc[D];
    Contract<D>(e, v, n, acc);
    const V inv = 1.0f / total;
    for (int c = 0; c < D; ++c) Store(sc.row(3, h, c) + i0, acc[c] * inv);
    Store(sc.extra(h, 0) + i0, m);
    Store(sc.extra(h, 1) + i0, inv);
  }
}

template <int D>
void BackwardProblemWide(Scratch& sc, int64_t h, int64_t n) {
  const BackwardRows<D> rows(sc, h);
  const auto &q = rows.q, &k = rows.k, &v = rows.v, &g = rows.g;
  const float *rmax = rows.rmax, *rinv = rows.rinv, *delta = rows.delta;
  float* logits = sc.lanes(0);
  float* dlogits = sc.lanes(1);
  float* probs = sc.lanes(2);
  // dq, vectorised over queries.
  for (int64_t i0 = 0; i0 < sc.stride(); i0 += kLanes) {
    V x[D];
    for (int c = 0; c < D; ++c) x[c] = Load(q[c] + i0);
    for (int64_t j = 0; j < n; ++j) Store(logits + j * kLanes, Dot<D>(x, k, j));
    for (int c = 0; c < D; ++c) x[c] = Load(g[c] + i0);
    const V shift = Load(rmax + i0), scale = Load(rinv + i0);
    const V di = Load(delta + i0);
    for (int64_t j = 0; j < n; ++j) {
      const V p = Exp(Load(logits + j * kLanes) - shift) * scale;
      Store(dlogits + j * kLanes, p * (Dot<D>(x, v, j) - di));
    }
    V dq[D];
    Contract<D>(dlogits, k, n, dq);
    for (int c = 0; c < D; ++c) Store(sc.row(5, h, c) + i0, dq[c]);
  }
  // dk and dv, vectorised over keys.
  for (int64_t j0 = 0; j0 < sc.stride(); j0 += kLanes) {
    V x[D];
    for (int c = 0; c < D; ++c) x[c] = Load(k[c] + j0);
    for (int64_t i = 0; i < n; ++i) Store(logits + i * kLanes, Dot<D>(x, q, i));
    for (int c = 0; c < D; ++c) x[c] = Load(v[c] + j0);
    for (int64_t i = 0; i < n; ++i) {
      const V p = Exp(Load(logits + i * kLanes) - rmax[i]) * rinv[i];
      Store(probs + i * kLanes, p);
      Store(dlogits + i * kLanes, p * (Dot<D>(x, g, i) - delta[i]));
    }
    V dk[D], dv[D];
    Contract<D>(dlogits, q, n, dk);
    Contract<D>(probs, g, n, dv);
    for (int c = 0; c < D; ++c) {
      Store(sc.row(6, h, c) + j0, dk[c]);
      Store(sc.row(7, h, c) + j0, dv[c]);
    }
  }
}

// The forward or backward kernel of one head of width D: registers up to
// width 4, L1 buffers above.
template <int D, bool kBackward>
void Problem(Scratch& sc, int64_t h, int64_t n) {
  constexpr bool kNarrow = D <= 4;
  if constexpr (kBackward && kNarrow) BackwardProblem<D>(sc, h, n);
  if constexpr (kBackward && !kNarrow) BackwardProblemWide<D>(sc, h, n);
  if constexpr (!kBackward && kNarrow) ForwardProblem<D>(sc, h, n);
  if constexpr (!kBackward && !kNarrow) ForwardProblemWide<D>(sc, h, n);
}

template <typename F>
void Dispatch(int64_t d, F&& f) {
  switch (d) {
    case 1: f(std::integral_constant<int, 1>{}); break;
    case 2: f(std::integral_constant<int, 2>{}); break;
    case 3: f(std::integral_constant<int, 3>{}); break;
    case 4: f(std::integral_constant<int, 4>{}); break;
    case 5: f(std::integral_constant<int, 5>{}); break;
    case 6: f(std::integral_constant<int, 6>{}); break;
    case 7: f(std::integral_constant<int, 7>{}); break;
    case 8: f(std::integral_constant<int, 8>{}); break;
    case 16: f(std::integral_constant<int, 16>{}); break;
    default: f(std::integral_constant<int, 32>{}); break;
  }
}

// The members of one call: pointers per tensor role and member, heads per
// member, and the work items, (batch row, member, first head of a block).
struct Members {
  Dims dims;                   // heads unused
  std::vector<int64_t> heads;  // per member
  struct Block {
    int64_t member, h0, hb;
  };
  std::vector<Block> blocks;  // of one batch row

  int64_t items() const { return dims.batch * blocks.size(); }
};

using Inputs = std::vector<std::vector<const float*>>;  // [role][member]
using Outputs = std::vector<std::vector<float*>>;        // [role][member]

ffi::Error ReadMembers(const ffi::RemainingArgs& args, int64_t roles,
                       Members* m, Inputs* in) {
  if (args.size() == 0 || args.size() % roles) {
    return ffi::Error::InvalidArgument(
        "set attention: expected the same number of arrays per role");
  }
  const int64_t count = args.size() / roles;
  in->assign(roles, std::vector<const float*>(count));
  for (int64_t r = 0; r < roles; ++r) {
    for (int64_t i = 0; i < count; ++i) {
      auto buf = args.get<ffi::AnyBuffer>(r * count + i);
      if (!buf.has_value()) return buf.error();
      (*in)[r][i] = static_cast<const float*>(buf->untyped_data());
      if (r == 0) {
        Dims d;
        if (auto e = ReadDims(*buf, &d); e.failure()) return e;
        if (i == 0) {
          m->dims = d;
        } else if (d.batch != m->dims.batch || d.n != m->dims.n ||
                   d.d != m->dims.d) {
          return ffi::Error::InvalidArgument(
              "set attention: all members need equal batch, n and d");
        }
        m->heads.push_back(d.heads);
      }
    }
  }
  const int64_t block = BlockHeads(m->dims.d);
  for (int64_t i = 0; i < count; ++i) {
    for (int64_t h0 = 0; h0 < m->heads[i]; h0 += block) {
      m->blocks.push_back({i, h0, std::min(block, m->heads[i] - h0)});
    }
  }
  return ffi::Error::Success();
}

ffi::Error ReadResults(const ffi::RemainingRets& rets, int64_t roles,
                       int64_t count, Outputs* out) {
  if (static_cast<int64_t>(rets.size()) != roles * count) {
    return ffi::Error::InvalidArgument(
        "set attention: wrong number of results");
  }
  out->assign(roles, std::vector<float*>(count));
  for (int64_t r = 0; r < roles; ++r) {
    for (int64_t i = 0; i < count; ++i) {
      auto buf = rets.get<ffi::AnyBuffer>(r * count + i);
      if (!buf.has_value()) return buf.error();
      (*out)[r][i] = static_cast<float*>((*buf)->untyped_data());
    }
  }
  return ffi::Error::Success();
}

// Dims of member i for Gather/Scatter.
Dims MemberDims(const Members& m, int64_t i) {
  Dims s = m.dims;
  s.heads = m.heads[i];
  return s;
}

int64_t Grain(const Members& m) {
  // About 64k multiply-adds of logits per task chunk.
  const Dims& s = m.dims;
  return std::max<int64_t>(
      1, 65536 / std::max<int64_t>(1, s.n * s.n * s.d * BlockHeads(s.d)));
}

// Reads a call's members (in_roles arrays each) and results (out_roles
// each), then runs body(scratch, batch row, block, dims of its member, in,
// out) for every work item on the pool, with a scratch of `tensors` tensors
// per thread.
template <typename Body>
ffi::Error ForEachBlock(ffi::ThreadPool& pool, const ffi::RemainingArgs& args,
                        const ffi::RemainingRets& rets, int64_t in_roles,
                        int64_t out_roles, int64_t tensors, Body body) {
  Members m;
  Inputs in;
  Outputs out;
  if (auto e = ReadMembers(args, in_roles, &m, &in); e.failure()) return e;
  if (auto e = ReadResults(rets, out_roles, m.heads.size(), &out);
      e.failure()) {
    return e;
  }
  ParallelFor(pool, m.items(), Grain(m), [&](int64_t begin, int64_t end) {
    Scratch sc(tensors, m.dims.n, m.dims.d, BlockHeads(m.dims.d));
    for (int64_t item = begin; item < end; ++item) {
      const auto& blk = m.blocks[item / m.dims.batch];
      body(sc, item % m.dims.batch, blk, MemberDims(m, blk.member), in, out);
    }
  });
  return ffi::Error::Success();
}

// args: q, k, v per member; rets: o, stats per member.
ffi::Error SetAttentionFwdImpl(ffi::ThreadPool pool, ffi::RemainingArgs args,
                               ffi::RemainingRets rets) {
  return ForEachBlock(
      pool, args, rets, 3, 2, 4,
      [](Scratch& sc, int64_t b, const Members::Block& blk, const Dims& s,
         const Inputs& in, const Outputs& out) {
        const int64_t i = blk.member;
        for (int t = 0; t < 3; ++t) {
          Gather(in[t][i], s, b, blk.h0, blk.hb, sc, t);
        }
        for (int64_t h = 0; h < blk.hb; ++h) {
          Dispatch(s.d, [&](auto dd) {
            Problem<decltype(dd)::value, false>(sc, h, s.n);
          });
          float* stats = out[1][i] + 2 * (b * s.heads + blk.h0 + h) * s.n;
          std::copy(sc.extra(h, 0), sc.extra(h, 0) + s.n, stats);
          std::copy(sc.extra(h, 1), sc.extra(h, 1) + s.n, stats + s.n);
        }
        Scatter(sc, 3, s, b, blk.h0, blk.hb, out[0][i]);
      });
}

// args: q, k, v, o, stats, g per member; rets: dq, dk, dv per member.
ffi::Error SetAttentionBwdImpl(ffi::ThreadPool pool, ffi::RemainingArgs args,
                               ffi::RemainingRets rets) {
  return ForEachBlock(
      pool, args, rets, 6, 3, 8,
      [](Scratch& sc, int64_t b, const Members::Block& blk, const Dims& s,
         const Inputs& in, const Outputs& out) {
        const int64_t i = blk.member;
        for (int t = 0; t < 4; ++t) {
          Gather(in[t][i], s, b, blk.h0, blk.hb, sc, t);
        }
        Gather(in[5][i], s, b, blk.h0, blk.hb, sc, 4);
        for (int64_t h = 0; h < blk.hb; ++h) {
          const float* stats = in[4][i] + 2 * (b * s.heads + blk.h0 + h) * s.n;
          std::copy(stats, stats + s.n, sc.extra(h, 0));
          std::copy(stats + s.n, stats + 2 * s.n, sc.extra(h, 1));
          Dispatch(s.d, [&](auto dd) {
            Problem<decltype(dd)::value, true>(sc, h, s.n);
          });
        }
        for (int t = 0; t < 3; ++t) {
          Scatter(sc, 5 + t, s, b, blk.h0, blk.hb, out[t][i]);
        }
      });
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(DwsSetAttentionFwd, SetAttentionFwdImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .RemainingArgs()
                                  .RemainingRets());

XLA_FFI_DEFINE_HANDLER_SYMBOL(DwsSetAttentionBwd, SetAttentionBwdImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .RemainingArgs()
                                  .RemainingRets());
