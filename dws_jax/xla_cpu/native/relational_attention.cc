// Copyright 2026 The dws_jax Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Fused relational attention of the neural-graph transformer for XLA:CPU, as
// XLA FFI custom calls.
//
// Every edge ij of the dense graph gets per head h its own query and key
// offsets (and value modulation), projections of the edge's features. XLA
// materialises these (batch, n, n, heads, 16) tensors and runs a dozen
// bandwidth-bound passes over them per layer; here one row i of one head
// stays in L1: its projections are computed, used and dropped.
//
// Row-major float32 arrays, head width 16 (one vector):
//   q, k, v: (batch, n, heads, 16)     node queries, keys, values
//   edges:   (batch, n, n, c)          c a multiple of 16, at most 64
//   w:       (c, p, heads, 16)         edge projections: query, key and,
//                                      when p == 3, value modulation
//   out:     (batch, n, heads, 16)
//   pooled:  (batch, n, heads, c)      sum_j a_ij e_ij (the caller projects
//                                      it with the edge value weights)
//   attn:    (batch, n, heads, n)      a_ij, kept for the backward pass
//
// With E^p_ij = e_ij w[:, p] (per head):
//   a_ij = softmax_j(scale (q_i + E^0_ij) . (k_j + E^1_ij))
//   out_i = sum_j a_ij v_j * E^2_ij      (p == 3)
//   out_i = sum_j a_ij v_j               (p == 2)
//
// Backward, given g = dL/dout and dpool = dL/dpooled, with the projections
// recomputed:
//   da_ij  = dpool_i . e_ij + g_i . (v_j * E^2_ij)   (or g_i . v_j)
//   dl_ij  = scale a_ij (da_ij - sum_j' a_ij' da_ij')
//   dE^0_ij = dl_ij (k_j + E^1_ij),  dE^1_ij = dl_ij (q_i + E^0_ij),
//   dE^2_ij = a_ij v_j * g_i
//   dq_i = sum_j dE^0_ij,  dk_j = sum_i dE^1_ij,
//   dv_j = sum_i a_ij E^2_ij * g_i      (or sum_i a_ij g_i)
//   de_ij = a_ij dpool_i + sum_p dE^p_ij w[:, p]^T,
//   dw[:, p] = sum_ij e_ij^T dE^p_ij  (one partial per batch row)
//
// The forward runs one task per (batch row, node i); the backward one per
// batch row, which owns its rows of dk, dv and its partial of dw.

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "products.h"
#include "simd.h"
#include "xla/ffi/api/ffi.h"

namespace {

using namespace dws_jax_native;  // NOLINT(build/namespaces)

constexpr int64_t kD = kLanes;  // head width

struct Shape {
  int64_t batch, n, heads, c, p;
};

using F32 = ffi::Buffer<ffi::F32>;

ffi::Error ReadShape(const F32& q, const F32& edges, const F32& w, Shape* s) {
  auto qd = q.dimensions();
  auto ed = edges.dimensions();
  auto wd = w.dimensions();
  if (qd.size() != 4 || ed.size() != 4 || wd.size() != 4) {
    return ffi::Error::InvalidArgument(
        "relational attention: q must be (batch, n, heads, 16), edges "
        "(batch, n, n, c) and w (c, p, heads, 16)");
  }
  *s = {qd[0], qd[1], qd[2], ed[3], wd[1]};
  if (qd[3] != kD || wd[3] != kD) {
    return ffi::Error::InvalidArgument(
        "relational attention: head width must be 16");
  }
  if (ed[0] != s->batch || ed[1] != s->n || ed[2] != s->n ||
      wd[0] != s->c || wd[2] != s->heads) {
    return ffi::Error::InvalidArgument(
        "relational attention: q, edges and w do not match");
  }
  if (s->c % kLanes || s->c < kLanes || s->c > 4 * kLanes ||
      (s->p != 2 && s->p != 3)) {
    return ffi::Error::InvalidArgument(
        "relational attention: c must be 16, 32, 48 or 64 and p 2 or 3");
  }
  return ffi::Error::Success();
}

// The weights of each head, packed: wp[h] is (c, p) vectors (rows of the
// projection), wt[h] is (p * 16, c) (its transpose).
struct PackedWeights {
  std::vector<float> wp, wt;

  PackedWeights(const float* w, const Shape& s)
      : wp(s.heads * s.c * s.p * kD), wt(wp.size()) {
    for (int64_t c = 0; c < s.c; ++c) {
      for (int64_t p = 0; p < s.p; ++p) {
        for (int64_t h = 0; h < s.heads; ++h) {
          const float* src = w + ((c * s.p + p) * s.heads + h) * kD;
          float* rows = Wp(s, h) + (c * s.p + p) * kD;
          float* cols = Wt(s, h) + p * kD * s.c + c;
          for (int64_t d = 0; d < kD; ++d) {
            rows[d] = src[d];
            cols[d * s.c] = src[d];
          }
        }
      }
    }
  }

  float* Wp(const Shape& s, int64_t h) { return &wp[h * s.c * s.p * kD]; }
  float* Wt(const Shape& s, int64_t h) { return &wt[h * s.c * s.p * kD]; }
};

// a[j] = softmax_j(logits[j]) in place for j < n; a has room for n rounded
// up to a multiple of 16.
void Softmax(float* a, int64_t n) {
  const int64_t padded = (n + kLanes - 1) / kLanes * kLanes;
  for (int64_t j = n; j < padded; ++j) a[j] = -INFINITY;
  V m = Load(a);
  for (int64_t j = kLanes; j < padded; j += kLanes) m = Max(m, Load(a + j));
  float mx = m[0];
  for (int l = 1; l < kLanes; ++l) mx = std::max(mx, m[l]);
  V sum{};
  for (int64_t j = 0; j < padded; j += kLanes) {
    V x = Load(a + j) - mx;
    V y = Exp(x);
    y = x > -INFINITY ? y : V{};
    Store(a + j, y);
    sum += y;
  }
  const float inv = 1.0f / HSum(sum);
  for (int64_t j = 0; j < padded; j += kLanes) Store(a + j, Load(a + j) * inv);
}

// Scratch of one thread: projections and their gradients of one (row, head)
// and the attention row.
struct Scratch {
  std::vector<float> proj, dproj, a;
  explicit Scratch(const Shape& s)
      : proj(s.n * s.p * kD), dproj(s.n * s.p * kD),
        a((s.n + kLanes - 1) / kLanes * kLanes) {}
};

struct Args {
  const float *q, *k, *v, *edges;
  float scale;
};

// Forward of batch row b, node i.
template <int P, int C>
void ForwardRow(const Shape& s, const Args& x, PackedWeights& w, int64_t b,
                int64_t i, Scratch& sc, float* out, float* pooled,
                float* attn) {
  constexpr int CV = C / kLanes;
  const int64_t n = s.n, heads = s.heads;
  const float* e = x.edges + (b * n + i) * n * C;
  const float* kb = x.k + b * n * heads * kD;
  const float* vb = x.v + b * n * heads * kD;
  for (int64_t h = 0; h < heads; ++h) {
    float* proj = sc.proj.data();
    float* a = sc.a.data();
    MatMul<C, P * kD, false>(e, C, w.Wp(s, h), n, proj, P * kD);
    const int64_t ih = (b * n + i) * heads + h;
    const V q = Load(x.q + ih * kD);
    for (int64_t j = 0; j < n; ++j) {
      V kj = Load(kb + (j * heads + h) * kD) + Load(proj + (j * P + 1) * kD);
      V qj = q + Load(proj + j * P * kD);
      a[j] = x.scale * HSum(qj * kj);
    }
    Softmax(a, n);
    V o{}, pool[CV] = {};
    for (int64_t j = 0; j < n; ++j) {
      V aj = Splat(a[j]);
      V vj = Load(vb + (j * heads + h) * kD);
      if constexpr (P == 3) vj *= Load(proj + (j * P + 2) * kD);
      o += aj * vj;
      for (int v = 0; v < CV; ++v) pool[v] += aj * Load(e + j * C + v * kLanes);
    }
    Store(out + ih * kD, o);
    for (int v = 0; v < CV; ++v) Store(pooled + ih * C + v * kLanes, pool[v]);
    std::copy(a, a + n, attn + ih * n);
  }
}

struct Grads {
  const float *attn, *g, *dpool;
  float *dq, *dk, *dv, *de, *dw;
};

// Backward of batch row b (all nodes and heads).
template <int P, int C>
void BackwardBatch(const Shape& s, const Args& x, PackedWeights& w,
                   const Grads& gr, int64_t b, Scratch& sc,
                   std::vector<float>& dw_packed) {
  constexpr int CV = C / kLanes;
  const int64_t n = s.n, heads = s.heads;
  const int64_t rows = n * heads * kD;
  const float* kb = x.k + b * rows;
  const float* vb = x.v + b * rows;
  float* dk = gr.dk + b * rows;
  float* dv = gr.dv + b * rows;
  std::fill(dk, dk + rows, 0.0f);
  std::fill(dv, dv + rows, 0.0f);
  std::fill(dw_packed.begin(), dw_packed.end(), 0.0f);
  float* proj = sc.proj.data();
  float* dproj = sc.dproj.data();
  float* da = sc.a.data();
  for (int64_t i = 0; i < n; ++i) {
    const float* e = x.edges + (b * n + i) * n * C;
    float* de = gr.de + (b * n + i) * n * C;
    std::fill(de, de + n * C, 0.0f);
    for (int64_t h = 0; h < heads; ++h) {
      MatMul<C, P * kD, false>(e, C, w.Wp(s, h), n, proj, P * kD);
      const int64_t ih = (b * n + i) * heads + h;
      const float* a = gr.attn + ih * n;
      const V q = Load(x.q + ih * kD);
      const V g = Load(gr.g + ih * kD);
      V dpool[CV];
      for (int v = 0; v < CV; ++v) {
        dpool[v] = Load(gr.dpool + ih * C + v * kLanes);
      }
      float dot = 0.0f;
      for (int64_t j = 0; j < n; ++j) {
        V t = g * Load(vb + (j * heads + h) * kD);
        if constexpr (P == 3) t *= Load(proj + (j * P + 2) * kD);
        for (int v = 0; v < CV; ++v) {
          t += dpool[v] * Load(e + j * C + v * kLanes);
        }
        da[j] = HSum(t);
        dot += a[j] * da[j];
      }
      V dq{};
      for (int64_t j = 0; j < n; ++j) {
        V dl = Splat(x.scale * a[j] * (da[j] - dot));
        V kj = Load(kb + (j * heads + h) * kD) + Load(proj + (j * P + 1) * kD);
        V qj = q + Load(proj + j * P * kD);
        Store(dproj + j * P * kD, dl * kj);
        Store(dproj + (j * P + 1) * kD, dl * qj);
        dq += dl * kj;
        float* dkj = dk + (j * heads + h) * kD;
        Store(dkj, Load(dkj) + dl * qj);
        V ag = Splat(a[j]) * g;
        float* dvj = dv + (j * heads + h) * kD;
        if constexpr (P == 3) {
          Store(dproj + (j * P + 2) * kD, ag * Load(vb + (j * heads + h) * kD));
          Store(dvj, Load(dvj) + ag * Load(proj + (j * P + 2) * kD));
        } else {
          Store(dvj, Load(dvj) + ag);
        }
      }
      Store(gr.dq + ih * kD, dq);
      // de[j] += dproj[j] @ wt; dw += e^T dproj.
      MatMul<P * kD, C, true>(dproj, P * kD, w.Wt(s, h), n, de, C);
      OuterAcc<C, P * kD>(e, C, dproj, n, &dw_packed[h * C * P * kD]);
    }
    // de[j] += sum_h a[h, j] dpool[h], the pooled edges' part.
    const float* a_i = gr.attn + (b * n + i) * heads * n;
    const float* dpool_i = gr.dpool + (b * n + i) * heads * C;
    for (int64_t j = 0; j < n; ++j) {
      V acc[CV];
      for (int v = 0; v < CV; ++v) acc[v] = Load(de + j * C + v * kLanes);
      for (int64_t h = 0; h < heads; ++h) {
        V ah = Splat(a_i[h * n + j]);
        for (int v = 0; v < CV; ++v) {
          acc[v] += ah * Load(dpool_i + h * C + v * kLanes);
        }
      }
      for (int v = 0; v < CV; ++v) Store(de + j * C + v * kLanes, acc[v]);
    }
  }
  // Unpack this row's dw, (heads, c, p, 16) -> (c, p, heads, 16).
  float* dw = gr.dw + b * C * P * heads * kD;
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t c = 0; c < C; ++c) {
      for (int64_t p = 0; p < P; ++p) {
        const float* src = &dw_packed[((h * C + c) * P + p) * kD];
        std::copy(src, src + kD, dw + ((c * P + p) * heads + h) * kD);
      }
    }
  }
}

template <typename F>
void Dispatch(const Shape& s, F&& f) {
  auto with_c = [&](auto pp) {
    switch (s.c) {
      case 16: f(pp, std::integral_constant<int, 16>{}); break;
      case 32: f(pp, std::integral_constant<int, 32>{}); break;
      case 48: f(pp, std::integral_constant<int, 48>{}); break;
      default: f(pp, std::integral_constant<int, 64>{}); break;
    }
  };
  if (s.p == 3) {
    with_c(std::integral_constant<int, 3>{});
  } else {
    with_c(std::integral_constant<int, 2>{});
  }
}

ffi::Error ForwardImpl(ffi::ThreadPool pool, F32 q, F32 k, F32 v, F32 edges,
                       F32 w, float scale, ffi::ResultBuffer<ffi::F32> out,
                       ffi::ResultBuffer<ffi::F32> pooled,
                       ffi::ResultBuffer<ffi::F32> attn) {
  Shape s;
  if (auto e = ReadShape(q, edges, w, &s); e.failure()) return e;
  PackedWeights pw(w.typed_data(), s);
  const Args x{q.typed_data(), k.typed_data(), v.typed_data(),
               edges.typed_data(), scale};
  float* o = out->typed_data();
  float* pl = pooled->typed_data();
  float* at = attn->typed_data();
  Dispatch(s, [&](auto pp, auto cc) {
    constexpr int P = decltype(pp)::value, C = decltype(cc)::value;
    ParallelFor(pool, s.batch * s.n, 1, [&](int64_t begin, int64_t end) {
      Scratch sc(s);
      for (int64_t r = begin; r < end; ++r) {
        ForwardRow<P, C>(s, x, pw, r / s.n, r % s.n, sc, o, pl, at);
      }
    });
  });
  return ffi::Error::Success();
}

ffi::Error BackwardImpl(ffi::ThreadPool pool, F32 q, F32 k, F32 v, F32 edges,
                        F32 w, F32 attn, F32 g, F32 dpool, float scale,
                        ffi::ResultBuffer<ffi::F32> dq,
                        ffi::ResultBuffer<ffi::F32> dk,
                        ffi::ResultBuffer<ffi::F32> dv,
                        ffi::ResultBuffer<ffi::F32> de,
                        ffi::ResultBuffer<ffi::F32> dw) {
  Shape s;
  if (auto e = ReadShape(q, edges, w, &s); e.failure()) return e;
  PackedWeights pw(w.typed_data(), s);
  const Args x{q.typed_data(), k.typed_data(), v.typed_data(),
               edges.typed_data(), scale};
  const Grads gr{attn.typed_data(), g.typed_data(), dpool.typed_data(),
                 dq->typed_data(), dk->typed_data(), dv->typed_data(),
                 de->typed_data(), dw->typed_data()};
  Dispatch(s, [&](auto pp, auto cc) {
    constexpr int P = decltype(pp)::value, C = decltype(cc)::value;
    ParallelFor(pool, s.batch, 1, [&](int64_t begin, int64_t end) {
      Scratch sc(s);
      std::vector<float> dw_packed(s.heads * C * P * kD);
      for (int64_t b = begin; b < end; ++b) {
        BackwardBatch<P, C>(s, x, pw, gr, b, sc, dw_packed);
      }
    });
  });
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(DwsRelationalAttentionFwd, ForwardImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Attr<float>("scale")
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(DwsRelationalAttentionBwd, BackwardImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Attr<float>("scale")
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>());
