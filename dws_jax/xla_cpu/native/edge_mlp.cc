// Copyright 2026 The dws_jax Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Fused edge update of the neural-graph transformer for XLA:CPU, as XLA FFI
// custom calls.
//
// Per edge ij of the dense graph (row-major float32 arrays):
//   x0 = e_ij K0a + e_ji K0b + s_i + t_j           (F wide)
//   y0 = gelu(x0) K1 + b1, dropped out with mask0   (C wide)
//   e1 = LayerNorm0(e_ij + y0)
//   y1 = gelu(e1 K2) K3 + b3, dropped out with mask1
//   out_ij = LayerNorm1(e1 + y1)
// with edges (batch, n, n, C), s and t (batch, n, F), masks (batch, n, n, C)
// holding 0 or 1 / keep (or empty: no dropout), and the parameters in one
// flat vector: K0 (2C, F) = [K0a; K0b], K1 (F, C), b1, LayerNorm0 scale and
// bias, K2 (C, F), K3 (F, C), b3, LayerNorm1 scale and bias. gelu is exact
// (erf); LayerNorm uses var = mean(x^2) - mean(x)^2 and eps 1e-5, as Flax.
//
// XLA runs about thirty memory-bound passes over (batch, n, n, F) tensors for
// this; here 16 edges at a time stay in L1 through the whole MLP. The
// backward pass recomputes the forward of its 16 edges, then runs back
// through them. The forward runs one task per (batch row, node i); the
// backward one per batch row, which owns its rows of the edge, s and t
// gradients (e_ji feeds row j's tile) and its partial of the parameter
// gradients (batch, parameters).

#include <cmath>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "products.h"
#include "simd.h"
#include "xla/ffi/api/ffi.h"

namespace {

using namespace dws_jax_native;  // NOLINT(build/namespaces)

using F32 = ffi::Buffer<ffi::F32>;

constexpr int64_t kTile = 16;  // edges per tile
constexpr float kEps = 1e-5f;

// Offsets of the parameters in the flat vector.
template <int C, int F>
struct Layout {
  static constexpr int64_t k0 = 0;
  static constexpr int64_t k1 = k0 + 2 * C * F;
  static constexpr int64_t b1 = k1 + F * C;
  static constexpr int64_t g0 = b1 + C;
  static constexpr int64_t beta0 = g0 + C;
  static constexpr int64_t k2 = beta0 + C;
  static constexpr int64_t k3 = k2 + C * F;
  static constexpr int64_t b3 = k3 + F * C;
  static constexpr int64_t g1 = b3 + C;
  static constexpr int64_t beta1 = g1 + C;
  static constexpr int64_t size = beta1 + C;
};

// erf(x) to about 5e-7 absolute error: x * P(x^2) / Q(x^2) on [-4, 4].
inline V Erf(V x) {
  x = x < 4.0f ? x : Splat(4.0f);
  x = x > -4.0f ? x : Splat(-4.0f);
  const V x2 = x * x;
  V p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
  p = p * x2 + -2.10102402082508e-06f;
  p = p * x2 + -5.69250639462346e-05f;
  p = p * x2 + -7.34990630326855e-04f;
  p = p * x2 + -2.95459980854025e-03f;
  p = p * x2 + -1.60960333262415e-02f;
  V q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
  q = q * x2 + -1.68282697438203e-03f;
  q = q * x2 + -7.37332916720468e-03f;
  q = q * x2 + -1.42647390514189e-02f;
  return x * p / q;
}

constexpr float kSqrtHalf = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

inline V Gelu(V x) { return 0.5f * x * (1.0f + Erf(x * kSqrtHalf)); }

inline V GeluGrad(V x) {
  return 0.5f * (1.0f + Erf(x * kSqrtHalf)) +
         x * kInvSqrt2Pi * Exp(-0.5f * x * x);
}

// Buffers of one tile, rows of F or C floats.
template <int C, int F>
struct Tile {
  float x0[kTile * F], h0[kTile * F], x2[kTile * F], h1[kTile * F];
  float dh[kTile * F];
  float xh0[kTile * C], e1[kTile * C], xh1[kTile * C], y[kTile * C];
  float dr[kTile * C], de1[kTile * C];
  float rstd0[kTile], rstd1[kTile];
};

// out = LayerNorm(r) of one row; xhat = (r - mean) * rstd.
template <int C>
inline float LayerNormRow(const float* r, const float* gamma,
                          const float* beta, float* xhat, float* out) {
  constexpr int CV = C / kLanes;
  V sum{}, sq{};
  for (int v = 0; v < CV; ++v) {
    V x = Load(r + v * kLanes);
    sum += x;
    sq += x * x;
  }
  const float mean = HSum(sum) / C;
  const float var = std::max(HSum(sq) / C - mean * mean, 0.0f);
  const float rstd = 1.0f / std::sqrt(var + kEps);
  for (int v = 0; v < CV; ++v) {
    V xh = (Load(r + v * kLanes) - mean) * rstd;
    Store(xhat + v * kLanes, xh);
    Store(out + v * kLanes, xh * Load(gamma + v * kLanes) +
                                Load(beta + v * kLanes));
  }
  return rstd;
}

// dr = d LayerNorm / d r for the output gradient g of one row; adds to the
// scale and bias gradients.
template <int C>
inline void LayerNormGradRow(const float* g, const float* xhat, float rstd,
                             const float* gamma, float* dr, float* dgamma,
                             float* dbeta) {
  constexpr int CV = C / kLanes;
  V m1{}, m2{};
  V dxh[CV];
  for (int v = 0; v < CV; ++v) {
    V gv = Load(g + v * kLanes), xh = Load(xhat + v * kLanes);
    dxh[v] = gv * Load(gamma + v * kLanes);
    m1 += dxh[v];
    m2 += dxh[v] * xh;
    Store(dgamma + v * kLanes, Load(dgamma + v * kLanes) + gv * xh);
    Store(dbeta + v * kLanes, Load(dbeta + v * kLanes) + gv);
  }
  const float mean1 = HSum(m1) / C, mean2 = HSum(m2) / C;
  for (int v = 0; v < CV; ++v) {
    Store(dr + v * kLanes,
          rstd * (dxh[v] - mean1 - Load(xhat + v * kLanes) * mean2));
  }
}

struct Problem {
  int64_t batch, n;
  const float *edges, *s, *t, *params, *mask0, *mask1;
  std::vector<float> transposed;  // K0a^T, K0b^T, K1^T, K2^T, K3^T
};

void Transpose(const float* w, int64_t rows, int64_t cols, float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) out[c * rows + r] = w[r * cols + c];
  }
}

template <int C, int F>
void PackTransposed(Problem& p) {
  using L = Layout<C, F>;
  p.transposed.resize(5 * C * F);
  float* t = p.transposed.data();
  Transpose(p.params + L::k0, C, F, t);
  Transpose(p.params + L::k0 + C * F, C, F, t + C * F);
  Transpose(p.params + L::k1, F, C, t + 2 * C * F);
  Transpose(p.params + L::k2, C, F, t + 3 * C * F);
  Transpose(p.params + L::k3, F, C, t + 4 * C * F);
}

// The forward of edges (b, i, j0 .. j0 + rows), all intermediates kept in
// the tile; out gets the result (rows C apart).
template <int C, int F>
void ForwardTile(const Problem& p, int64_t b, int64_t i, int64_t j0,
                 int64_t rows, Tile<C, F>& tl, float* out) {
  using L = Layout<C, F>;
  constexpr int CV = C / kLanes, FV = F / kLanes;
  const int64_t n = p.n;
  const float* w = p.params;
  const int64_t ij0 = (b * n + i) * n + j0;
  const float* xa = p.edges + ij0 * C;
  const float* xb = p.edges + ((b * n + j0) * n + i) * C;
  const float* si = p.s + (b * n + i) * F;
  for (int64_t r = 0; r < rows; ++r) {
    const float* tj = p.t + (b * n + j0 + r) * F;
    for (int v = 0; v < FV; ++v) {
      Store(tl.x0 + r * F + v * kLanes,
            Load(si + v * kLanes) + Load(tj + v * kLanes));
    }
  }
  MatMul<C, F, true>(xa, C, w + L::k0, rows, tl.x0, F);
  MatMul<C, F, true>(xb, n * C, w + L::k0 + C * F, rows, tl.x0, F);
  for (int64_t k = 0; k < rows * F; k += kLanes) {
    Store(tl.h0 + k, Gelu(Load(tl.x0 + k)));
  }
  auto residual = [&](const float* res, const float* mask, int64_t bias,
                      int64_t gamma, int64_t beta, float* xhat, float* rstd,
                      float* dst) {
    for (int64_t r = 0; r < rows; ++r) {
      float* yr = tl.y + r * C;
      for (int v = 0; v < CV; ++v) {
        V y = Load(yr + v * kLanes) + Load(w + bias + v * kLanes);
        if (mask) y *= Load(mask + (ij0 + r) * C + v * kLanes);
        Store(yr + v * kLanes, y + Load(res + r * C + v * kLanes));
      }
      rstd[r] = LayerNormRow<C>(yr, w + gamma, w + beta, xhat + r * C,
                                dst + r * C);
    }
  };
  MatMul<F, C, false>(tl.h0, F, w + L::k1, rows, tl.y, C);
  residual(xa, p.mask0, L::b1, L::g0, L::beta0, tl.xh0, tl.rstd0, tl.e1);
  MatMul<C, F, false>(tl.e1, C, w + L::k2, rows, tl.x2, F);
  for (int64_t k = 0; k < rows * F; k += kLanes) {
    Store(tl.h1 + k, Gelu(Load(tl.x2 + k)));
  }
  MatMul<F, C, false>(tl.h1, F, w + L::k3, rows, tl.y, C);
  residual(tl.e1, p.mask1, L::b3, L::g1, L::beta1, tl.xh1, tl.rstd1, out);
}

struct GradOut {
  const float* g;
  float *de, *ds, *dt, *dparams;
};

// Back through an MLP half: from dr (gradient at the residual sum, rows C
// apart) to dh = d/d(hidden input x) (rows F apart). Adds the bias and
// weight gradients of its second Dense.
template <int C, int F>
void BackMlpHalf(const float* mask, int64_t ij0, int64_t rows, const float* h,
                 const float* x, const float* kt, Tile<C, F>& tl, float* dbias,
                 float* dk) {
  constexpr int CV = C / kLanes;
  for (int64_t r = 0; r < rows; ++r) {
    for (int v = 0; v < CV; ++v) {
      V dy = Load(tl.dr + r * C + v * kLanes);
      if (mask) dy *= Load(mask + (ij0 + r) * C + v * kLanes);
      Store(tl.y + r * C + v * kLanes, dy);
      Store(dbias + v * kLanes, Load(dbias + v * kLanes) + dy);
    }
  }
  OuterAcc<F, C>(h, F, tl.y, rows, dk);
  MatMul<C, F, false>(tl.y, C, kt, rows, tl.dh, F);
  for (int64_t k = 0; k < rows * F; k += kLanes) {
    Store(tl.dh + k, Load(tl.dh + k) * GeluGrad(Load(x + k)));
  }
}

template <int C, int F>
void BackwardTile(const Problem& p, const GradOut& go, int64_t b, int64_t i,
                  int64_t j0, int64_t rows, Tile<C, F>& tl, float* out) {
  using L = Layout<C, F>;
  constexpr int FV = F / kLanes;
  const int64_t n = p.n;
  const float* w = p.params;
  const float* wt = p.transposed.data();
  float* dw = go.dparams + b * L::size;
  ForwardTile<C, F>(p, b, i, j0, rows, tl, out);
  const int64_t ij0 = (b * n + i) * n + j0;
  const float* g = go.g + ij0 * C;
  for (int64_t r = 0; r < rows; ++r) {
    LayerNormGradRow<C>(g + r * C, tl.xh1 + r * C, tl.rstd1[r], w + L::g1,
                        tl.dr + r * C, dw + L::g1, dw + L::beta1);
  }
  std::copy(tl.dr, tl.dr + rows * C, tl.de1);
  BackMlpHalf<C, F>(p.mask1, ij0, rows, tl.h1, tl.x2, wt + 4 * C * F, tl,
                    dw + L::b3, dw + L::k3);
  OuterAcc<C, F>(tl.e1, C, tl.dh, rows, dw + L::k2);
  MatMul<F, C, true>(tl.dh, F, wt + 3 * C * F, rows, tl.de1, C);
  float* dea = go.de + ij0 * C;
  for (int64_t r = 0; r < rows; ++r) {
    LayerNormGradRow<C>(tl.de1 + r * C, tl.xh0 + r * C, tl.rstd0[r],
                        w + L::g0, tl.dr + r * C, dw + L::g0, dw + L::beta0);
    for (int64_t k = 0; k < C; k += kLanes) {
      Store(dea + r * C + k, Load(dea + r * C + k) + Load(tl.dr + r * C + k));
    }
  }
  BackMlpHalf<C, F>(p.mask0, ij0, rows, tl.h0, tl.x0, wt + 2 * C * F, tl,
                    dw + L::b1, dw + L::k1);
  // dh is now d/dx0: to s_i, t_j, K0 and both edges.
  float* dsi = go.ds + (b * n + i) * F;
  for (int64_t r = 0; r < rows; ++r) {
    float* dtj = go.dt + (b * n + j0 + r) * F;
    for (int v = 0; v < FV; ++v) {
      V d = Load(tl.dh + r * F + v * kLanes);
      Store(dsi + v * kLanes, Load(dsi + v * kLanes) + d);
      Store(dtj + v * kLanes, Load(dtj + v * kLanes) + d);
    }
  }
  const float* xa = p.edges + ij0 * C;
  const float* xb = p.edges + ((b * n + j0) * n + i) * C;
  OuterAcc<C, F>(xa, C, tl.dh, rows, dw + L::k0);
  OuterAcc<C, F>(xb, n * C, tl.dh, rows, dw + L::k0 + C * F);
  MatMul<F, C, true>(tl.dh, F, wt, rows, dea, C);
  MatMul<F, C, true>(tl.dh, F, wt + C * F, rows,
                     go.de + ((b * n + j0) * n + i) * C, n * C);
}

template <typename Fn>
void Dispatch(int64_t c, int64_t f, Fn&& fn) {
  auto with_f = [&](auto cc) {
    switch (f) {
      case 32: fn(cc, std::integral_constant<int, 32>{}); break;
      case 64: fn(cc, std::integral_constant<int, 64>{}); break;
      default: fn(cc, std::integral_constant<int, 128>{}); break;
    }
  };
  switch (c) {
    case 16: with_f(std::integral_constant<int, 16>{}); break;
    case 32: with_f(std::integral_constant<int, 32>{}); break;
    default: with_f(std::integral_constant<int, 64>{}); break;
  }
}

ffi::Error ReadProblem(const F32& edges, const F32& s, const F32& t,
                       const F32& params, const F32& mask0, const F32& mask1,
                       Problem* p, int64_t* c, int64_t* f) {
  auto ed = edges.dimensions();
  auto sd = s.dimensions();
  auto td = t.dimensions();
  if (ed.size() != 4 || sd.size() != 3 || td.size() != 3 || ed[1] != ed[2] ||
      sd[0] != ed[0] || sd[1] != ed[1] || td[0] != sd[0] || td[1] != sd[1] ||
      td[2] != sd[2]) {
    return ffi::Error::InvalidArgument(
        "edge mlp: edges must be (batch, n, n, c), s and t (batch, n, f)");
  }
  *c = ed[3];
  *f = sd[2];
  if ((*c != 16 && *c != 32 && *c != 64) ||
      (*f != 32 && *f != 64 && *f != 128)) {
    return ffi::Error::InvalidArgument(
        "edge mlp: c must be 16, 32 or 64 and f 32, 64 or 128");
  }
  const int64_t size = 2 * *c * *f + 2 * *f * *c + *c * *f + 6 * *c;
  if (params.element_count() != static_cast<size_t>(size)) {
    return ffi::Error::InvalidArgument("edge mlp: wrong parameter count");
  }
  const bool dropout = mask0.element_count() != 0;
  const size_t mask_size = dropout ? edges.element_count() : 0;
  if (mask0.element_count() != mask_size ||
      mask1.element_count() != mask_size) {
    return ffi::Error::InvalidArgument(
        "edge mlp: masks must be empty or shaped like the edges");
  }
  *p = Problem{ed[0], ed[1], edges.typed_data(), s.typed_data(),
               t.typed_data(), params.typed_data(),
               dropout ? mask0.typed_data() : nullptr,
               dropout ? mask1.typed_data() : nullptr, {}};
  return ffi::Error::Success();
}

ffi::Error ForwardImpl(ffi::ThreadPool pool, F32 edges, F32 s, F32 t,
                       F32 params, F32 mask0, F32 mask1,
                       ffi::ResultBuffer<ffi::F32> out) {
  Problem p;
  int64_t c, f;
  if (auto e = ReadProblem(edges, s, t, params, mask0, mask1, &p, &c, &f);
      e.failure()) {
    return e;
  }
  float* o = out->typed_data();
  Dispatch(c, f, [&](auto cc, auto ff) {
    constexpr int C = decltype(cc)::value, F = decltype(ff)::value;
    ParallelFor(pool, p.batch * p.n, 1, [&](int64_t begin, int64_t end) {
      auto tl = std::make_unique<Tile<C, F>>();
      for (int64_t row = begin; row < end; ++row) {
        const int64_t b = row / p.n, i = row % p.n;
        for (int64_t j0 = 0; j0 < p.n; j0 += kTile) {
          const int64_t rows = std::min(kTile, p.n - j0);
          ForwardTile<C, F>(p, b, i, j0, rows, *tl,
                            o + ((b * p.n + i) * p.n + j0) * C);
        }
      }
    });
  });
  return ffi::Error::Success();
}

ffi::Error BackwardImpl(ffi::ThreadPool pool, F32 edges, F32 s, F32 t,
                        F32 params, F32 mask0, F32 mask1, F32 g,
                        ffi::ResultBuffer<ffi::F32> de,
                        ffi::ResultBuffer<ffi::F32> ds,
                        ffi::ResultBuffer<ffi::F32> dt,
                        ffi::ResultBuffer<ffi::F32> dparams) {
  Problem p;
  int64_t c, f;
  if (auto e = ReadProblem(edges, s, t, params, mask0, mask1, &p, &c, &f);
      e.failure()) {
    return e;
  }
  const GradOut go{g.typed_data(), de->typed_data(), ds->typed_data(),
                   dt->typed_data(), dparams->typed_data()};
  Dispatch(c, f, [&](auto cc, auto ff) {
    constexpr int C = decltype(cc)::value, F = decltype(ff)::value;
    using L = Layout<C, F>;
    PackTransposed<C, F>(p);
    const int64_t n = p.n;
    ParallelFor(pool, p.batch, 1, [&](int64_t begin, int64_t end) {
      auto tl = std::make_unique<Tile<C, F>>();
      std::vector<float> out(kTile * C);
      for (int64_t b = begin; b < end; ++b) {
        std::fill(go.de + b * n * n * C, go.de + (b + 1) * n * n * C, 0.0f);
        std::fill(go.ds + b * n * F, go.ds + (b + 1) * n * F, 0.0f);
        std::fill(go.dt + b * n * F, go.dt + (b + 1) * n * F, 0.0f);
        std::fill(go.dparams + b * L::size, go.dparams + (b + 1) * L::size,
                  0.0f);
        for (int64_t i = 0; i < n; ++i) {
          for (int64_t j0 = 0; j0 < n; j0 += kTile) {
            BackwardTile<C, F>(p, go, b, i, j0, std::min(kTile, n - j0), *tl,
                               out.data());
          }
        }
      }
    });
  });
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(DwsEdgeMlpFwd, ForwardImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Ret<F32>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(DwsEdgeMlpBwd, BackwardImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>());
