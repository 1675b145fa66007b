// Copyright 2026 The dws_jax Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Small register-blocked matrix products of dws_jax's native kernels: rows
// of a few dozen floats times weight matrices whose output width is a
// multiple of the 16 vector lanes.

#ifndef DWS_JAX_NATIVE_PRODUCTS_H_
#define DWS_JAX_NATIVE_PRODUCTS_H_

#include <cstdint>
#include <type_traits>

#include "simd.h"

namespace dws_jax_native {

// y[r] = (Acc ? y[r] : 0) + x[r] @ w for r < rows: x rows ldx apart, w (I, O)
// row-major, y rows ldy apart. Blocks of rows stay in registers. Inlined,
// so that constant strides stay constants.
template <int I, int O, bool Acc>
__attribute__((always_inline)) inline void MatMul(
    const float* x, int64_t ldx, const float* w, int64_t rows, float* y,
    int64_t ldy) {
  constexpr int OV = O / kLanes;
  constexpr int R = OV >= 8 ? 2 : 4;
  auto block = [&](int64_t r0, auto count) {
    constexpr int RR = decltype(count)::value;
    V acc[RR][OV];
    for (int r = 0; r < RR; ++r) {
      for (int v = 0; v < OV; ++v) {
        acc[r][v] = Acc ? Load(y + (r0 + r) * ldy + v * kLanes) : V{};
      }
    }
    for (int i = 0; i < I; ++i) {
      V wi[OV];
      for (int v = 0; v < OV; ++v) wi[v] = Load(w + i * O + v * kLanes);
      for (int r = 0; r < RR; ++r) {
        V xr = Splat(x[(r0 + r) * ldx + i]);
        for (int v = 0; v < OV; ++v) acc[r][v] += xr * wi[v];
      }
    }
    for (int r = 0; r < RR; ++r) {
      for (int v = 0; v < OV; ++v) {
        Store(y + (r0 + r) * ldy + v * kLanes, acc[r][v]);
      }
    }
  };
  int64_t r = 0;
  for (; r + R <= rows; r += R) block(r, std::integral_constant<int, R>{});
  for (; r < rows; ++r) block(r, std::integral_constant<int, 1>{});
}

// dw[i] += sum_r x[r, i] dy[r] for i < I: x rows ldx apart, dy (rows, O),
// dw (I, O) row-major.
template <int I, int O>
__attribute__((always_inline)) inline void OuterAcc(
    const float* x, int64_t ldx, const float* dy, int64_t rows, float* dw) {
  constexpr int OV = O / kLanes;
  constexpr int R = OV >= 8 ? 2 : 4;
  for (int i = 0; i < I; i += R) {
    V acc[R][OV];
    for (int k = 0; k < R; ++k) {
      for (int v = 0; v < OV; ++v) {
        acc[k][v] = Load(dw + (i + k) * O + v * kLanes);
      }
    }
    for (int64_t r = 0; r < rows; ++r) {
      V d[OV];
      for (int v = 0; v < OV; ++v) d[v] = Load(dy + r * O + v * kLanes);
      for (int k = 0; k < R; ++k) {
        V xk = Splat(x[r * ldx + i + k]);
        for (int v = 0; v < OV; ++v) acc[k][v] += xk * d[v];
      }
    }
    for (int k = 0; k < R; ++k) {
      for (int v = 0; v < OV; ++v) {
        Store(dw + (i + k) * O + v * kLanes, acc[k][v]);
      }
    }
  }
}

}  // namespace dws_jax_native

#endif  // DWS_JAX_NATIVE_PRODUCTS_H_
